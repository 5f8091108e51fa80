{#- Validated project vars: a bad value stops the build with a message that names the var and the value. -#}

{% macro lookback_hours() %}
  {%- set value = var('lookback_hours', 24) -%}
  {%- if value is not number or value is boolean or value != value | int or value <= 0 -%}
    {{ exceptions.raise_compiler_error(
        "var lookback_hours must be a positive whole number of hours (e.g. 24), got " ~ value ~ "") }}
  {%- endif -%}
  {{ return(value | int) }}
{% endmacro %}

{% macro min_frames() %}
  {%- set value = var('min_frames', 30) -%}
  {%- if value is not number or value is boolean or value != value | int or value < 0 -%}
    {{ exceptions.raise_compiler_error(
        "var min_frames must be a whole number of frames >= 0 (e.g. 30), got " ~ value ~ "") }}
  {%- endif -%}
  {{ return(value | int) }}
{% endmacro %}

{% macro incremental_margin_minutes() %}
  {%- set value = var('incremental_margin_minutes', 10) -%}
  {%- if value is not number or value is boolean or value < 0 -%}
    {{ exceptions.raise_compiler_error(
        "var incremental_margin_minutes must be a number of minutes >= 0, got " ~ value ~ "") }}
  {%- endif -%}
  {{ return(value) }}
{% endmacro %}

{#- SQL for the end of the lookback: the var as_of (ISO timestamp, validated by Postgres' cast) or now(). -#}
{% macro as_of() %}
  {%- set value = var('as_of', none) -%}
  {%- if value is none or value == '' -%}
    now()
  {%- else -%}
    {%- if value is not string or "'" in value -%}
      {{ exceptions.raise_compiler_error("var as_of must be an ISO timestamp string, got " ~ value) }}
    {%- endif -%}
    '{{ value }}'::timestamptz
  {%- endif -%}
{% endmacro %}

{#- The start of the lookback as SQL. An hour counts when its start lies in [start, as_of]. -#}
{% macro lookback_start() %}
  ({{ as_of() }} - interval '1 hour' * {{ lookback_hours() }})
{% endmacro %}

{#- Start of the UTC hour of a timestamptz, whatever the session's time zone. -#}
{% macro utc_hour(column) %}
  date_trunc('hour', {{ column }}, 'UTC')
{% endmacro %}
