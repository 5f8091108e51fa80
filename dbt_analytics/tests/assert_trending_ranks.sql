-- trending_now: score is the robust z of its own columns; class_rank runs 1..n per class over the eligible
-- rows, stream_rank 1..n over the streams (one row each, its best class) and only eligible rows are ranked.
with t as (select * from {{ ref('trending_now') }}),

bad_score as (
    select stream_id, object_class, 'score' as problem from t
    where abs(score - (observed - expected) / (1.4826 * mad + {{ score_floor() }})) > 1e-9
),

bad_class_rank as (
    select object_class, count(*) as n, min(class_rank) as lo, max(class_rank) as hi,
           count(distinct class_rank) as d
    from t where eligible group by object_class
    having min(class_rank) <> 1 or max(class_rank) <> count(*) or count(distinct class_rank) <> count(*)
),

bad_stream_rank as (
    select count(*) as n from t where stream_rank is not null
    having count(*) > 0 and (min(stream_rank) <> 1 or max(stream_rank) <> count(*)
                              or count(distinct stream_rank) <> count(*) or count(distinct stream_id) <> count(*))
),

ranked_not_eligible as (
    select stream_id, object_class from t where not eligible and (class_rank is not null or stream_rank is not null)
)

select 'score' as problem from bad_score
union all select 'class_rank' from bad_class_rank
union all select 'stream_rank' from bad_stream_rank
union all select 'ranked_not_eligible' from ranked_not_eligible
