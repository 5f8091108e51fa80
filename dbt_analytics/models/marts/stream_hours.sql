{#-
  Frames processed per stream and UTC hour: the denominator of every mean in the other marts.
  Incremental: hours whose frame_windows rows changed since the last build (minus a margin) are recomputed
  whole and replace their old rows (delete+insert on stream_id + hour).
-#}
{{ config(
    materialized='incremental',
    unique_key=['stream_id', 'hour'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[
      {'columns': ['stream_id', 'hour'], 'unique': True},
      {'columns': ['hour']},
    ],
    post_hook=["delete from {{ this }} where stream_id not in (select id from {{ source('streamscope', 'streams') }})"],
) }}

with

{% if is_incremental() %}
-- Read from the source, not the ephemeral staging model: a CTE used twice is materialized whole by Postgres.
changed_hours as (
    select distinct stream_id, {{ utc_hour('window_start') }} as hour
    from {{ source('streamscope', 'frame_windows') }}
    where updated_at > (
        select coalesce(max(source_updated_at), '-infinity'::timestamptz) from {{ this }}
    ) - interval '1 minute' * {{ incremental_margin_minutes() }}
),
{% endif %}

windows as (
    select fw.*
    from {{ ref('stg_frame_windows') }} as fw
    {% if is_incremental() %}
    where fw.window_start >= (select coalesce(min(hour), 'infinity'::timestamptz) from changed_hours)
      and (fw.stream_id, fw.hour) in (select stream_id, hour from changed_hours)
    {% endif %}
),

-- One row per stream and window, whatever the number of models that processed it.
per_window as (
    select
        stream_id,
        hour,
        window_start,
        sum(frames) as frames,
        max(window_minutes) as window_minutes,
        max(last_capture_at) as last_frame_at,
        max(updated_at) as updated_at
    from windows
    group by stream_id, hour, window_start
)

select
    stream_id,
    hour,
    sum(frames)::bigint as frames,
    (count(*) filter (where frames > 0))::integer as windows,
    coalesce(sum(window_minutes) filter (where frames > 0), 0)::double precision as minutes_observed,
    max(last_frame_at) filter (where frames > 0) as last_frame_at,
    max(updated_at) as source_updated_at,
    now() as updated_at
from per_window
group by stream_id, hour
