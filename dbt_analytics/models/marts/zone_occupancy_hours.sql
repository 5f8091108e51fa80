{#-
  Occupancy per stream, zone version, class and UTC hour: mean objects inside per frame, where frames are ALL the
  stream's frames of the hour (stream_hours; zeros count), max per frame, tracks seen inside, time spent inside.
-#}
{{ config(indexes=[{'columns': ['stream_id', 'zone_id', 'hour']}]) }}

with per_hour as (
    select
        stream_id, zone_id, zone_version, max(zone_name) as zone_name, object_class, hour,
        sum(detections)::bigint as detections,
        max(max_per_frame) as max_per_frame,
        sum(objects)::bigint as objects,
        sum(dwell_seconds)::double precision as dwell_seconds,
        max(updated_at) as source_updated_at
    from {{ ref('stg_zone_occupancy') }}
    group by stream_id, zone_id, zone_version, object_class, hour
)

select
    p.stream_id,
    p.zone_id,
    p.zone_version,
    p.zone_name,
    p.object_class,
    p.hour,
    p.detections,
    h.frames,
    p.detections::double precision / nullif(h.frames, 0) as mean_per_frame,
    p.max_per_frame,
    p.objects,
    p.dwell_seconds,
    p.source_updated_at,
    now() as updated_at
from per_hour as p
inner join {{ ref('stream_hours') }} as h on h.stream_id = p.stream_id and h.hour = p.hour
