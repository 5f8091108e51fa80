-- video_rankings.mean_per_frame equals the class's detections in the lookback / ALL the stream's frames in the
-- lookback, recomputed straight from object_stats and frame_windows, for every ranking window. Streams whose
-- statistics changed after the incremental marts under the view were built are left to the next build.
{% set model_filter = var("model", none) %}
{#- object_counts named, not ref'd: a second ref would move this test onto object_counts' task in the DAG,
    before the view exists. Its newest updated_at is when the marts under the view were last built. -#}
{% set rankings = ref('video_rankings') %}
{% set counts = adapter.quote(rankings.schema) ~ '.object_counts' %}

with lookback as (
    select distinct lookback_hours, as_of - interval '1 hour' * lookback_hours as since, as_of,
           (select max(updated_at) from {{ counts }}) as built_at
    from {{ ref('video_rankings') }}
),

fw as (
    select lookback.lookback_hours, fw.stream_id, sum(fw.frames) as frames, max(fw.updated_at) as changed_at
    from {{ source('streamscope', 'frame_windows') }} as fw
    cross join lookback
    where fw.window_start >= lookback.since  -- implied by the hour condition; lets Postgres use an index
      and {{ utc_hour('fw.window_start') }} >= lookback.since and {{ utc_hour('fw.window_start') }} <= lookback.as_of
    {% if model_filter is not none %} and fw.model = '{{ model_filter | replace("'", "''") }}' {% endif %}
    group by 1, 2
),

os as (
    select lookback.lookback_hours, os.stream_id, os.object_class, sum(os.detections) as detections, max(os.updated_at) as changed_at
    from {{ source('streamscope', 'object_stats') }} as os
    cross join lookback
    where os.window_start >= lookback.since
      and {{ utc_hour('os.window_start') }} >= lookback.since and {{ utc_hour('os.window_start') }} <= lookback.as_of
    {% if model_filter is not none %} and os.model = '{{ model_filter | replace("'", "''") }}' {% endif %}
    group by 1, 2, 3
)

select vr.lookback_hours, vr.object_class, vr.stream_id, vr.mean_per_frame, os.detections::double precision / fw.frames as recomputed
from {{ ref('video_rankings') }} as vr
inner join lookback on lookback.lookback_hours = vr.lookback_hours
left join os on os.lookback_hours = vr.lookback_hours and os.stream_id = vr.stream_id
    and os.object_class = vr.object_class
left join fw on fw.lookback_hours = vr.lookback_hours and fw.stream_id = vr.stream_id
where (os.detections is null or fw.frames is null
       or abs(vr.mean_per_frame - os.detections::double precision / fw.frames) > 1e-9)
  and coalesce(greatest(os.changed_at, fw.changed_at) <= lookback.built_at, true)
