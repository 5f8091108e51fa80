select
    stream_id,
    model,
    window_start,
    window_end,
    {{ utc_hour('window_start') }} as hour,
    extract(epoch from window_end - window_start) / 60.0 as window_minutes,
    frames,
    last_capture_at,
    updated_at
from {{ source('streamscope', 'frame_windows') }}
{% if var('model', none) is not none %}
where model = '{{ var("model") | replace("'", "''") }}'
{% endif %}
