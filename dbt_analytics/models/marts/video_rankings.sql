{#-
  THE ranking rule (the API reads this view and adds nothing but the sum over several classes): per ranking
  window (var lookback_hours, the API's 1h/6h/24h/7d) and object class, the streams ranked by mean objects per
  frame over the hours whose start lies in [as_of - window, as_of]. The denominator is every frame the stream
  processed in the window (stream_hours), also in hours without the class. Left out on too little evidence:
  streams with fewer than var min_frames frames in the window, and a class of a stream with fewer than var
  min_detections detections (both come from the settings api_min_frames / api_min_detections).
  A view: it reads the incremental marts when it is queried, so it is as fresh as stream_hours/object_counts,
  and "now" is the API request's (session setting streamscope.as_of, see macros/vars.sql).
-#}
{{ config(materialized='view') }}

with

windows as (
    select w.lookback_hours, {{ as_of() }} as as_of from {{ lookback_windows() }} as w
),

stream_totals as (
    select
        w.lookback_hours,
        h.stream_id,
        sum(h.frames)::bigint as frames,
        coalesce(sum(h.minutes_observed), 0)::double precision as minutes_observed
    from windows as w
    inner join {{ ref('stream_hours') }} as h
        on h.hour >= w.as_of - interval '1 hour' * w.lookback_hours and h.hour <= w.as_of
    group by w.lookback_hours, h.stream_id
),

class_totals as (
    select
        w.lookback_hours,
        c.stream_id,
        c.object_class,
        sum(c.detections)::bigint as detections,
        max(c.max_per_frame)::integer as max_per_frame,
        sum(c.unique_objects)::bigint as unique_objects
    from windows as w
    inner join {{ ref('object_counts') }} as c
        on c.hour >= w.as_of - interval '1 hour' * w.lookback_hours and c.hour <= w.as_of
    group by w.lookback_hours, c.stream_id, c.object_class
),

scored as (
    select
        class_totals.lookback_hours,
        class_totals.object_class,
        class_totals.stream_id,
        class_totals.detections::double precision / stream_totals.frames as mean_per_frame,
        class_totals.max_per_frame,
        class_totals.unique_objects,
        class_totals.detections,
        stream_totals.frames,
        stream_totals.minutes_observed
    from class_totals
    inner join stream_totals
        on stream_totals.lookback_hours = class_totals.lookback_hours
        and stream_totals.stream_id = class_totals.stream_id
    inner join {{ ref('stg_streams') }} as streams on streams.stream_id = class_totals.stream_id
    where stream_totals.frames >= {{ min_frames() }} and stream_totals.frames > 0
      and class_totals.detections >= {{ min_detections() }}
)

select
    lookback_hours,
    object_class,
    (row_number() over (
        partition by lookback_hours, object_class order by mean_per_frame desc, frames desc, stream_id asc
    ))::integer as rank,
    stream_id,
    mean_per_frame,
    max_per_frame,
    unique_objects,
    detections,
    frames,
    minutes_observed,
    {{ as_of() }} as as_of
from scored
