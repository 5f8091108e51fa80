{#- column = numerator / denominator (relative tolerance), null where the denominator is 0. -#}
{% test equals_ratio(model, column_name, numerator, denominator, tolerance=1e-9) %}
select *
from {{ model }}
where ({{ denominator }} = 0 and {{ column_name }} is not null)
   or ({{ denominator }} <> 0 and (
        {{ column_name }} is null
        or abs({{ column_name }} - {{ numerator }}::double precision / {{ denominator }})
           > {{ tolerance }} * greatest(1.0, abs({{ column_name }}))
   ))
{% endtest %}
