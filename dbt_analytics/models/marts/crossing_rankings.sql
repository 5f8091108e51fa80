{#-
  Per object class, the lines ranked by crossings (in + out) per hour the stream was observed over each ranking
  window (var lookback_hours, the API's 1h/6h/24h/7d)
  ("most people crossing per hour"). Hours observed = minutes_observed / 60 from stream_hours, so an outage
  lowers the hours, not the rate. Streams under min_frames in the lookback are left out.
-#}
{{ config(indexes=[{'columns': ['lookback_hours', 'object_class', 'rank'], 'unique': True}]) }}

with windows as (
    select w.lookback_hours, {{ as_of() }} as as_of from {{ lookback_windows() }} as w
),

observed as (
    select w.lookback_hours, h.stream_id, sum(h.frames)::bigint as frames,
           sum(h.minutes_observed) / 60.0 as hours_observed
    from windows as w
    inner join {{ ref('stream_hours') }} as h
        on h.hour >= w.as_of - interval '1 hour' * w.lookback_hours and h.hour <= w.as_of
    group by w.lookback_hours, h.stream_id
),

lines as (
    select
        w.lookback_hours, c.stream_id, c.line_id, max(c.line_name) as line_name, c.object_class,
        sum(c.crossings_in)::bigint as crossings_in, sum(c.crossings_out)::bigint as crossings_out
    from windows as w
    inner join {{ ref('line_crossing_hours') }} as c
        on c.hour >= w.as_of - interval '1 hour' * w.lookback_hours and c.hour <= w.as_of
    group by w.lookback_hours, c.stream_id, c.line_id, c.object_class
),

scored as (
    select
        l.lookback_hours, l.object_class, l.stream_id, l.line_id, l.line_name, l.crossings_in, l.crossings_out,
        o.hours_observed, o.frames,
        (l.crossings_in + l.crossings_out)::double precision / o.hours_observed as crossings_per_hour
    from lines as l
    inner join observed as o on o.stream_id = l.stream_id and o.lookback_hours = l.lookback_hours
    where o.hours_observed > 0 and o.frames >= {{ min_frames() }}
)

select
    object_class,
    (row_number() over (
        partition by lookback_hours, object_class order by crossings_per_hour desc, stream_id asc, line_id asc
    ))::integer as rank,
    stream_id,
    line_id,
    line_name,
    crossings_in,
    crossings_out,
    crossings_per_hour,
    hours_observed,
    frames,
    lookback_hours,
    {{ as_of() }} as as_of,
    now() as updated_at
from scored
