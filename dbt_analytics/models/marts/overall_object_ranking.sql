{#-
  Object classes ranked by mean per frame over all registered streams, per ranking window (var lookback_hours):
  total detections / total frames of all streams in the window (the same denominator for every class, streams
  without the class included). Classes never detected in the window are left out. A view, like video_rankings:
  the API reads it for GET /api/objects with its request's now.
-#}
{{ config(materialized='view') }}

with

windows as (
    select w.lookback_hours, {{ as_of() }} as as_of from {{ lookback_windows() }} as w
),

total as (
    select w.lookback_hours, coalesce(sum(h.frames), 0)::bigint as frames
    from windows as w
    left join {{ ref('stream_hours') }} as h
        on h.hour >= w.as_of - interval '1 hour' * w.lookback_hours and h.hour <= w.as_of
        and h.stream_id in (select stream_id from {{ ref('stg_streams') }})
    group by w.lookback_hours
),

classes as (
    select
        w.lookback_hours,
        c.object_class,
        sum(c.detections)::bigint as detections,
        max(c.max_per_frame)::integer as max_per_frame,
        sum(c.unique_objects)::bigint as unique_objects,
        (count(distinct c.stream_id) filter (where c.detections > 0))::integer as streams
    from windows as w
    inner join {{ ref('object_counts') }} as c
        on c.hour >= w.as_of - interval '1 hour' * w.lookback_hours and c.hour <= w.as_of
    where c.stream_id in (select stream_id from {{ ref('stg_streams') }})
    group by w.lookback_hours, c.object_class
    having sum(c.detections) > 0
)

select
    classes.lookback_hours,
    classes.object_class,
    (row_number() over (
        partition by classes.lookback_hours order by classes.detections desc, classes.object_class asc
    ))::integer as rank,
    classes.detections::double precision / total.frames as mean_per_frame,
    classes.detections,
    total.frames,
    classes.streams,
    classes.max_per_frame,
    classes.unique_objects,
    {{ as_of() }} as as_of
from classes
inner join total on total.lookback_hours = classes.lookback_hours
where total.frames > 0
