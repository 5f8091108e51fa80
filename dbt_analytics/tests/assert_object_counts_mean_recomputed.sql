-- object_counts.mean_per_frame equals detections / frames recomputed straight from the statistics tables:
-- detections from object_stats, frames from frame_windows (every window of the stream that hour, also the
-- windows where the class was absent). Checked: the rows the latest build (re)computed (all of them after a
-- full build), so the cost follows the increment. Hours whose statistics changed after the row was built (the
-- pipeline keeps writing while dbt runs) are left to the next build.
{% set model_filter = var("model", none) %}

with checked as (
    select * from {{ ref('object_counts') }}
    where updated_at >= (select max(updated_at) from {{ ref('object_counts') }})
),

since as (
    select coalesce(min(hour), 'infinity'::timestamptz) as hour from checked
),

fw as (
    select stream_id, {{ utc_hour('window_start') }} as hour, sum(frames) as frames, max(updated_at) as changed_at
    from {{ source('streamscope', 'frame_windows') }}
    where window_start >= (select hour from since)
    {% if model_filter is not none %} and model = '{{ model_filter | replace("'", "''") }}' {% endif %}
    group by 1, 2
),

os as (
    select stream_id, object_class, {{ utc_hour('window_start') }} as hour, sum(detections) as detections,
           max(updated_at) as changed_at
    from {{ source('streamscope', 'object_stats') }}
    where window_start >= (select hour from since)
    {% if model_filter is not none %} and model = '{{ model_filter | replace("'", "''") }}' {% endif %}
    group by 1, 2, 3
)

select oc.stream_id, oc.object_class, oc.hour, oc.mean_per_frame,
       os.detections::double precision / fw.frames as recomputed
from checked as oc
left join os on os.stream_id = oc.stream_id and os.object_class = oc.object_class and os.hour = oc.hour
left join fw on fw.stream_id = oc.stream_id and fw.hour = oc.hour
where (os.detections is null or fw.frames is null
       or abs(oc.mean_per_frame - os.detections::double precision / fw.frames) > 1e-9)
  and coalesce(greatest(os.changed_at, fw.changed_at) <= oc.updated_at, true)
