select
    stream_id,
    model,
    object_class,
    window_start,
    {{ utc_hour('window_start') }} as hour,
    detections,
    max_per_frame,
    min_per_frame,
    unique_objects,
    updated_at
from {{ source('streamscope', 'object_stats') }}
{% if var('model', none) is not none %}
where model = '{{ var("model") | replace("'", "''") }}'
{% endif %}
