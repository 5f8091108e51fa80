select
    o.stream_id,
    o.model,
    o.zone_id,
    o.zone_version,
    v.name as zone_name,
    o.object_class,
    o.window_start,
    {{ utc_hour('o.window_start') }} as hour,
    o.detections,
    o.max_per_frame,
    o.objects,
    o.dwell_seconds,
    o.updated_at
from {{ source('streamscope_zones', 'zone_occupancy') }} as o
inner join {{ source('streamscope_zones', 'zone_versions') }} as v
    on v.zone_id = o.zone_id and v.version = o.zone_version
{% if var('model', none) is not none %}
where o.model = '{{ var("model") | replace("'", "''") }}'
{% endif %}
