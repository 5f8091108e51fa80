-- crossing_rankings' (in, out) per line equal the sums of line_crossings over the lookback, recomputed from the
-- source; lines whose rows changed after the table was built are left to the next build.
with lookback as (
    select distinct lookback_hours, as_of - interval '1 hour' * lookback_hours as since, as_of,
           updated_at as built_at
    from {{ ref('crossing_rankings') }}
),

src as (
    select lookback.lookback_hours, c.stream_id, c.line_id, c.object_class, sum(c.crossings_in) as n_in, sum(c.crossings_out) as n_out,
           max(c.updated_at) as changed_at
    from {{ source('streamscope_zones', 'line_crossings') }} as c
    cross join lookback
    where {{ utc_hour('c.window_start') }} >= lookback.since and {{ utc_hour('c.window_start') }} <= lookback.as_of
    {% if var('model', none) is not none %} and c.model = '{{ var("model") | replace("'", "''") }}' {% endif %}
    group by 1, 2, 3, 4
)

select r.stream_id, r.line_id, r.object_class, r.crossings_in, r.crossings_out, src.n_in, src.n_out
from {{ ref('crossing_rankings') }} as r
inner join lookback on lookback.lookback_hours = r.lookback_hours
left join src on src.lookback_hours = r.lookback_hours and src.stream_id = r.stream_id and src.line_id = r.line_id and src.object_class = r.object_class
where (src.n_in is null or r.crossings_in <> src.n_in or r.crossings_out <> src.n_out)
  and coalesce(src.changed_at <= lookback.built_at, true)
