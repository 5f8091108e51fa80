select
    c.stream_id,
    c.model,
    c.line_id,
    c.line_version,
    v.name as line_name,
    c.object_class,
    c.window_start,
    {{ utc_hour('c.window_start') }} as hour,
    c.crossings_in,
    c.crossings_out,
    c.updated_at
from {{ source('streamscope_zones', 'line_crossings') }} as c
inner join {{ source('streamscope_zones', 'zone_versions') }} as v
    on v.zone_id = c.line_id and v.version = c.line_version
{% if var('model', none) is not none %}
where c.model = '{{ var("model") | replace("'", "''") }}'
{% endif %}
