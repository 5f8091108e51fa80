{#-
  What is normal for a stream: per stream, class and hour of the week (0..167, Monday 00h UTC = 0), the median
  and MAD of the class's hourly means (detections / the stream's frames that hour, zeros included) over the
  var baseline_weeks weeks before as_of's hour (the current hour is never its own baseline). An hour counts as
  history only with at least var min_frames frames (the one minimum-evidence setting, api_min_frames); an hour
  with frames but no row for the class is a zero. history_hours / history_weeks say what the figures rest on.
  A table, rebuilt whole by every dbt build (it moves by an hour per hour; a stale build only misses the
  newest hours).
-#}
{{ config(indexes=[{'columns': ['stream_id', 'object_class', 'hour_of_week'], 'unique': True},
                   {'columns': ['hour_of_week']}]) }}

with

bounds as (
    select
        date_trunc('hour', {{ as_of() }}, 'UTC') as until_hour,
        date_trunc('hour', {{ as_of() }}, 'UTC') - interval '1 week' * {{ baseline_weeks() }} as since_hour
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
    medians.mean,
    medians.history_hours,
    medians.history_weeks,
    medians.first_hour,
    medians.last_hour,
    {{ baseline_weeks() }} as baseline_weeks,
    (select until_hour from bounds) as as_of_hour,
    now() as updated_at
from medians
inner join mads
    on mads.stream_id = medians.stream_id and mads.object_class = medians.object_class
    and mads.hour_of_week = medians.hour_of_week
inner join {{ ref('stg_streams') }} as streams on streams.stream_id = medians.stream_id
