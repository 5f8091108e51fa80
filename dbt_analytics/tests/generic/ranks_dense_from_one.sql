{#- Within each partition the ranks are exactly 1..n: no gaps, no duplicates. -#}
{% test ranks_dense_from_one(model, column_name, partition_by=none) %}
with ranks as (
    select {{ partition_by if partition_by is not none else "'all'::text" }} as part, {{ column_name }} as rank
    from {{ model }}
)
select part, count(*) as n, min(rank) as lowest, max(rank) as highest, count(distinct rank) as distinct_ranks
from ranks
group by part
having min(rank) <> 1 or max(rank) <> count(*) or count(distinct rank) <> count(*)
{% endtest %}
