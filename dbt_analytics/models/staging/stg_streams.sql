select
    id as stream_id,
    name,
    status,
    status_reason,
    kind,
    canonical_id,
    created_at
from {{ source('streamscope', 'streams') }}
