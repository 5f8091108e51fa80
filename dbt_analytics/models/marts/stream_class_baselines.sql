{#-
  What is normal for a stream: per stream, class and hour of the week (0..167, Monday 00h UTC = 0), the median
  and MAD of the class's hourly means (detections / the stream's frames that hour, zeros included) over
  var baseline_weeks weeks of history that end a day before as_of's hour: every 168 * N hours hold each hour of
  the week N times, and the guard day means no hour of the last 24 (the current one, and every window the anomaly
  job re-reads) is ever part of its own baseline, so rebuilding the table hourly does not move their scores. An hour counts as
  history only with at least var min_frames frames (the one minimum-evidence setting, api_min_frames); an hour
  with frames but no row for the class is a zero. history_hours / history_weeks say what the figures rest on.
  window_mad is the same spread for single windows (the anomaly job scores windows, whose means scatter more
  than hourly ones: counting noise, and the day's curve within an hour): the median of |window mean - median|
  over the history's windows of this hour of the week with at least var min_window_frames frames.
  Recomputed whole by every dbt build (it moves by an hour per hour; a stale build only misses the newest
  hours). Incremental only in form: each build empties it and inserts every row in one transaction, because a
  table materialization would drop it (CASCADE) and take the trending_now view with it until that view is
  rebuilt; readers see the old rows until the build commits.
-#}
{{ config(
    materialized='incremental',
    unique_key=['stream_id', 'object_class', 'hour_of_week'],
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    pre_hook=["{% if is_incremental() %}delete from {{ this }}{% endif %}"],
    indexes=[{'columns': ['stream_id', 'object_class', 'hour_of_week'], 'unique': True},
             {'columns': ['hour_of_week']}],
) }}

with

bounds as (
    select
        date_trunc('hour', {{ as_of() }}, 'UTC') as as_of_hour,
        date_trunc('hour', {{ as_of() }}, 'UTC') - interval '1 day' as until_hour,
        date_trunc('hour', {{ as_of() }}, 'UTC') - interval '1 day' - interval '1 week' * {{ baseline_weeks() }}
            as since_hour
),

history_hours as (
    select h.stream_id, h.hour, h.frames
    from {{ ref('stream_hours') }} as h
    cross join bounds
    where h.hour >= bounds.since_hour and h.hour < bounds.until_hour and h.frames >= greatest({{ min_frames() }}, 1)
),

classes as (
    select distinct c.stream_id, c.object_class
    from {{ ref('object_counts') }} as c
    cross join bounds
    where c.hour >= bounds.since_hour and c.hour < bounds.until_hour
),

means as (
    select
        history_hours.stream_id,
        classes.object_class,
        history_hours.hour,
        {{ hour_of_week('history_hours.hour') }} as hour_of_week,
        coalesce(c.detections, 0)::double precision / history_hours.frames as mean_per_frame
    from history_hours
    inner join classes on classes.stream_id = history_hours.stream_id
    left join {{ ref('object_counts') }} as c
        on c.stream_id = history_hours.stream_id and c.object_class = classes.object_class
        and c.hour = history_hours.hour
),

medians as (
    select
        stream_id,
        object_class,
        hour_of_week,
        percentile_cont(0.5) within group (order by mean_per_frame) as median,
        avg(mean_per_frame) as mean,
        count(*)::integer as history_hours,
        (count(distinct date_trunc('week', hour, 'UTC')))::integer as history_weeks,
        min(hour) as first_hour,
        max(hour) as last_hour
    from means
    group by stream_id, object_class, hour_of_week
),

history_windows as (
    select fw.stream_id, fw.window_start, fw.hour, sum(fw.frames) as frames
    from {{ ref('stg_frame_windows') }} as fw
    cross join bounds
    where fw.window_start >= bounds.since_hour and fw.window_start < bounds.until_hour
    group by fw.stream_id, fw.window_start, fw.hour
    having sum(fw.frames) >= greatest({{ min_window_frames() }}, 1)
),

window_detections as (
    select os.stream_id, os.object_class, os.window_start, sum(os.detections) as detections
    from {{ ref('stg_object_stats') }} as os
    cross join bounds
    where os.window_start >= bounds.since_hour and os.window_start < bounds.until_hour
    group by os.stream_id, os.object_class, os.window_start
),

window_mads as (
    select
        w.stream_id,
        classes.object_class,
        {{ hour_of_week('w.hour') }} as hour_of_week,
        percentile_cont(0.5) within group (
            order by abs(coalesce(d.detections, 0)::double precision / w.frames - medians.median)
        ) as window_mad,
        count(*)::integer as history_windows
    from history_windows as w
    inner join classes on classes.stream_id = w.stream_id
    inner join medians
        on medians.stream_id = w.stream_id and medians.object_class = classes.object_class
        and medians.hour_of_week = {{ hour_of_week('w.hour') }}
    left join window_detections as d
        on d.stream_id = w.stream_id and d.object_class = classes.object_class and d.window_start = w.window_start
    group by w.stream_id, classes.object_class, {{ hour_of_week('w.hour') }}
),

mads as (
    select
        means.stream_id,
        means.object_class,
        means.hour_of_week,
        percentile_cont(0.5) within group (order by abs(means.mean_per_frame - medians.median)) as mad
    from means
    inner join medians
        on medians.stream_id = means.stream_id and medians.object_class = means.object_class
        and medians.hour_of_week = means.hour_of_week
    group by means.stream_id, means.object_class, means.hour_of_week
)

select
    medians.stream_id,
    medians.object_class,
    medians.hour_of_week,
    medians.median,
    mads.mad,
    coalesce(window_mads.window_mad, mads.mad) as window_mad,
    coalesce(window_mads.history_windows, 0) as history_windows,
    medians.mean,
    medians.history_hours,
    medians.history_weeks,
    medians.first_hour,
    medians.last_hour,
    {{ baseline_weeks() }} as baseline_weeks,
    (select as_of_hour from bounds) as as_of_hour,
    now() as updated_at
from medians
inner join mads
    on mads.stream_id = medians.stream_id and mads.object_class = medians.object_class
    and mads.hour_of_week = medians.hour_of_week
left join window_mads
    on window_mads.stream_id = medians.stream_id and window_mads.object_class = medians.object_class
    and window_mads.hour_of_week = medians.hour_of_week
inner join {{ ref('stg_streams') }} as streams on streams.stream_id = medians.stream_id
