{#-
  "Busier than usual" now: per stream and class, the mean per frame of the current UTC hour so far (as_of's
  hour) against the stream's baseline for this hour of the week (stream_class_baselines):
  score = (observed - median) / (1.4826 * MAD + var score_floor), a robust z. Scored only on enough evidence:
  at least var min_frames frames this hour (api_min_frames) and var baseline_min_weeks weeks of history.
  class_rank ranks the scored rows of a class; stream_rank ranks streams by their highest-scoring class (set on
  that row only). The API's GET /api/trending reads these ranks as they are. A view: as fresh as
  stream_hours/object_counts, for the API request's now.
-#}
{{ config(materialized='view') }}

with

now_hour as (
    select
        date_trunc('hour', {{ as_of() }}, 'UTC') as hour,
        {{ hour_of_week("date_trunc('hour', " ~ as_of() ~ ", 'UTC')") }} as hour_of_week
),

current_frames as (
    select h.stream_id, h.hour, h.frames, h.minutes_observed
    from {{ ref('stream_hours') }} as h
    inner join now_hour on now_hour.hour = h.hour
    where h.frames > 0
),

observed as (
    select
        current_frames.stream_id,
        b.object_class,
        current_frames.hour,
        b.hour_of_week,
        current_frames.frames,
        current_frames.minutes_observed,
        coalesce(c.detections, 0)::bigint as detections,
        coalesce(c.detections, 0)::double precision / current_frames.frames as observed,
        b.median as expected,
        b.mad,
        b.history_hours,
        b.history_weeks
    from current_frames
    inner join now_hour on true
    inner join {{ ref('stream_class_baselines') }} as b
        on b.stream_id = current_frames.stream_id and b.hour_of_week = now_hour.hour_of_week
    left join {{ ref('object_counts') }} as c
        on c.stream_id = current_frames.stream_id and c.object_class = b.object_class
        and c.hour = current_frames.hour
),

scored as (
    select
        observed.*,
        (observed - expected) / (1.4826 * mad + {{ score_floor() }}) as score,
        (frames >= {{ min_frames() }} and history_weeks >= {{ baseline_min_weeks() }}) as eligible
    from observed
),

ranked as (
    select
        scored.*,
        case when eligible then row_number() over (
            partition by eligible, object_class order by score desc, frames desc, stream_id asc
        ) end as class_rank,
        case when eligible then row_number() over (
            partition by eligible, stream_id order by score desc, object_class asc
        ) end as best_of_stream
    from scored
)

select
    stream_id,
    object_class,
    hour,
    hour_of_week,
    frames,
    minutes_observed,
    detections,
    observed,
    expected,
    mad,
    history_hours,
    history_weeks,
    score,
    eligible,
    class_rank::integer as class_rank,
    (case when best_of_stream = 1 then row_number() over (
        partition by best_of_stream = 1 order by score desc, frames desc, stream_id asc
    ) end)::integer as stream_rank,
    {{ as_of() }} as as_of
from ranked
