select
    id as session_id,
    stream_id,
    started_at,
    ended_at,
    frames_read,
    frames_published,
    stalls,
    reconnects,
    last_frame_at,
    end_reason
from {{ source('streamscope', 'reader_sessions') }}
