-- Ranks in video_rankings run 1..n within each window and object class, without gaps or ties, ordered by mean
-- per frame (desc), then frames (desc), then stream id (asc).
with expected as (
    select
        lookback_hours,
        object_class,
        stream_id,
        rank,
        row_number() over (
            partition by lookback_hours, object_class order by mean_per_frame desc, frames desc, stream_id asc
        ) as expected_rank,
        count(*) over (partition by lookback_hours, object_class) as n
    from {{ ref('video_rankings') }}
)
select *
from expected
where rank <> expected_rank or rank < 1 or rank > n
