{#-
  Occupancy per stream, class and UTC hour. mean_per_frame = detections / the stream's frames that hour
  (stream_hours, zeros included), never an average of per-window means.
  Incremental: (stream, hour) pairs whose object_stats or frames changed since the last build are recomputed.
-#}
{{ config(
    materialized='incremental',
    unique_key=['stream_id', 'object_class', 'hour'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[
      {'columns': ['stream_id', 'object_class', 'hour'], 'unique': True},
      {'columns': ['object_class', 'hour']},
      {'columns': ['hour']},
    ],
    post_hook=["delete from {{ this }} where stream_id not in (select id from {{ source('streamscope', 'streams') }})"],
) }}

with

{% if is_incremental() %}
watermark as (
    select coalesce(max(source_updated_at), '-infinity'::timestamptz)
           - interval '1 minute' * {{ incremental_margin_minutes() }} as since
    from {{ this }}
),

-- Read from the source, not the ephemeral staging model: a CTE used twice is materialized whole by Postgres.
changed_hours as (
    select stream_id, {{ utc_hour('window_start') }} as hour from {{ source('streamscope', 'object_stats') }}
    where updated_at > (select since from watermark)
    union
    select stream_id, hour from {{ ref('stream_hours') }}
    where source_updated_at > (select since from watermark)
),
{% endif %}

stats as (
    select
        os.stream_id,
        os.object_class,
        os.hour,
        sum(os.detections)::bigint as detections,
        max(os.max_per_frame) as max_per_frame,
        sum(os.unique_objects)::bigint as unique_objects,
        max(os.updated_at) as updated_at
    from {{ ref('stg_object_stats') }} as os
    {% if is_incremental() %}
    where os.window_start >= (select coalesce(min(hour), 'infinity'::timestamptz) from changed_hours)
      and (os.stream_id, os.hour) in (select stream_id, hour from changed_hours)
    {% endif %}
    group by os.stream_id, os.object_class, os.hour
)

select
    stats.stream_id,
    stats.object_class,
    stats.hour,
    hours.frames,
    stats.detections,
    stats.detections::double precision / nullif(hours.frames, 0) as mean_per_frame,
    stats.max_per_frame,
    stats.unique_objects,
    greatest(stats.updated_at, hours.source_updated_at) as source_updated_at,
    now() as updated_at
from stats
inner join {{ ref('stream_hours') }} as hours
    on hours.stream_id = stats.stream_id and hours.hour = stats.hour
