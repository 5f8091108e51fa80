{#-
  Per object class, the lines ranked by crossings (in + out) per hour the stream was observed over the lookback
  ("most people crossing per hour"). Hours observed = minutes_observed / 60 from stream_hours, so an outage
  lowers the hours, not the rate. Streams under min_frames in the lookback are left out.
-#}
{{ config(indexes=[{'columns': ['object_class', 'rank'], 'unique': True}]) }}

with observed as (
    select stream_id, sum(frames)::bigint as frames, sum(minutes_observed) / 60.0 as hours_observed
    from {{ ref('stream_hours') }}
    where hour >= {{ lookback_start() }} and hour <= {{ as_of() }}
    group by stream_id
),

lines as (
    select
        stream_id, line_id, max(line_name) as line_name, object_class,
        sum(crossings_in)::bigint as crossings_in, sum(crossings_out)::bigint as crossings_out
    from {{ ref('line_crossing_hours') }}
    where hour >= {{ lookback_start() }} and hour <= {{ as_of() }}
    group by stream_id, line_id, object_class
),

scored as (
    select
        l.object_class, l.stream_id, l.line_id, l.line_name, l.crossings_in, l.crossings_out,
        o.hours_observed, o.frames,
        (l.crossings_in + l.crossings_out)::double precision / o.hours_observed as crossings_per_hour
    from lines as l
    inner join observed as o on o.stream_id = l.stream_id
    where o.hours_observed > 0 and o.frames >= {{ min_frames() }}
)

select
    object_class,
    (row_number() over (
        partition by object_class order by crossings_per_hour desc, stream_id asc, line_id asc
    ))::integer as rank,
    stream_id,
    line_id,
    line_name,
    crossings_in,
    crossings_out,
    crossings_per_hour,
    hours_observed,
    frames,
    {{ lookback_hours() }} as lookback_hours,
    {{ as_of() }} as as_of,
    now() as updated_at
from scored
