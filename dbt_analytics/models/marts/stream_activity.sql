{#-
  Per registered stream: how much of the lookback it was observed, its reader sessions and reconnects, and the
  last frame seen. Every stream has a row, with zeros when nothing was read in the lookback.
-#}
with

hours as (
    select
        stream_id,
        sum(frames)::bigint as frames,
        sum(minutes_observed)::double precision as minutes_observed
    from {{ ref('stream_hours') }}
    where hour >= {{ lookback_start() }} and hour <= {{ as_of() }}
    group by stream_id
),

last_processed as (
    select stream_id, max(last_frame_at) as last_frame_at
    from {{ ref('stream_hours') }}
    group by stream_id
),

sessions as (
    select
        stream_id,
        (count(*) filter (where started_at >= {{ lookback_start() }} and started_at <= {{ as_of() }}))::integer
            as sessions,
        (coalesce(sum(reconnects) filter (
            where started_at >= {{ lookback_start() }} and started_at <= {{ as_of() }}
        ), 0))::integer as reconnects,
        max(last_frame_at) as last_frame_at
    from {{ ref('stg_reader_sessions') }}
    group by stream_id
)

select
    streams.stream_id,
    streams.name,
    streams.status,
    streams.status_reason,
    least(1.0, coalesce(hours.minutes_observed, 0) / (60.0 * {{ lookback_hours() }}))::double precision
        as uptime_share,
    coalesce(hours.minutes_observed, 0)::double precision as minutes_observed,
    greatest(sessions.last_frame_at, last_processed.last_frame_at) as last_frame_at,
    coalesce(sessions.sessions, 0) as sessions,
    coalesce(sessions.reconnects, 0) as reconnects,
    coalesce(hours.frames, 0)::bigint as frames,
    {{ lookback_hours() }} as lookback_hours,
    {{ as_of() }} as as_of,
    now() as updated_at
from {{ ref('stg_streams') }} as streams
left join hours on hours.stream_id = streams.stream_id
left join last_processed on last_processed.stream_id = streams.stream_id
left join sessions on sessions.stream_id = streams.stream_id
