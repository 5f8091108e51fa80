{#-
  Crossings per stream, line version, class and UTC hour: in and out (each track at most once per line and
  direction, counted by the aggregator). The API's "most crossed per hour" divides by stream_hours.
-#}
{{ config(indexes=[{'columns': ['object_class', 'hour']}, {'columns': ['stream_id', 'line_id', 'hour']}]) }}

select
    stream_id,
    line_id,
    line_version,
    max(line_name) as line_name,
    object_class,
    hour,
    sum(crossings_in)::bigint as crossings_in,
    sum(crossings_out)::bigint as crossings_out,
    max(updated_at) as source_updated_at,
    now() as updated_at
from {{ ref('stg_line_crossings') }}
where stream_id in (select stream_id from {{ ref('stg_streams') }})
group by stream_id, line_id, line_version, object_class, hour
