{#-
  Object classes ranked by mean per frame over all streams: total detections / total frames of all streams
  in the lookback (the same denominator for every class, streams without the class included).
-#}
with

hours as (
    select * from {{ ref('stream_hours') }}
    where hour >= {{ lookback_start() }} and hour <= {{ as_of() }}
),

total as (
    select coalesce(sum(frames), 0)::bigint as frames from hours
),

classes as (
    select
        object_class,
        sum(detections)::bigint as detections,
        max(max_per_frame) as max_per_frame,
        sum(unique_objects)::bigint as unique_objects,
        (count(distinct stream_id) filter (where detections > 0))::integer as streams
    from {{ ref('object_counts') }}
    where hour >= {{ lookback_start() }} and hour <= {{ as_of() }}
    group by object_class
)

select
    classes.object_class,
    (row_number() over (order by classes.detections desc, classes.object_class asc))::integer as rank,
    classes.detections::double precision / nullif(total.frames, 0) as mean_per_frame,
    classes.detections,
    total.frames,
    classes.streams,
    classes.max_per_frame,
    classes.unique_objects,
    {{ lookback_hours() }} as lookback_hours,
    {{ as_of() }} as as_of,
    now() as updated_at
from classes
cross join total
