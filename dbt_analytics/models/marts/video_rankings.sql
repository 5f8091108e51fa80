{#-
  Per object class, the streams ranked by mean objects per frame over the lookback. The denominator is every
  frame the stream had processed in the lookback (stream_hours), including hours where the class was absent.
-#}
{{ config(indexes=[{'columns': ['object_class', 'rank'], 'unique': True}]) }}

with

hours as (
    select * from {{ ref('stream_hours') }}
    where hour >= {{ lookback_start() }} and hour <= {{ as_of() }}
),

stream_totals as (
    select
        stream_id,
        sum(frames)::bigint as frames,
        sum(minutes_observed)::double precision as minutes_observed
    from hours
    group by stream_id
),

class_totals as (
    select
        stream_id,
        object_class,
        sum(detections)::bigint as detections,
        max(max_per_frame) as max_per_frame,
        sum(unique_objects)::bigint as unique_objects
    from {{ ref('object_counts') }}
    where hour >= {{ lookback_start() }} and hour <= {{ as_of() }}
    group by stream_id, object_class
),

scored as (
    select
        class_totals.object_class,
        class_totals.stream_id,
        class_totals.detections::double precision / stream_totals.frames as mean_per_frame,
        class_totals.max_per_frame,
        class_totals.unique_objects,
        class_totals.detections,
        stream_totals.frames,
        stream_totals.minutes_observed
    from class_totals
    inner join stream_totals on stream_totals.stream_id = class_totals.stream_id
    inner join {{ ref('stg_streams') }} as streams on streams.stream_id = class_totals.stream_id
    where stream_totals.frames >= {{ min_frames() }} and stream_totals.frames > 0
)

select
    object_class,
    (row_number() over (
        partition by object_class order by mean_per_frame desc, frames desc, stream_id asc
    ))::integer as rank,
    stream_id,
    mean_per_frame,
    max_per_frame,
    unique_objects,
    detections,
    frames,
    minutes_observed,
    {{ lookback_hours() }} as lookback_hours,
    {{ as_of() }} as as_of,
    now() as updated_at
from scored
