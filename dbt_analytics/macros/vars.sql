{#- Validated project vars: a bad value stops the build with a message that names the var and the value. -#}

{#- The ranking windows in hours: a list (the API's windows: [1, 6, 24, 168]) or one number. -#}
{% macro lookback_hours() %}
  {%- set value = var('lookback_hours', [1, 6, 24, 168]) -%}
  {%- set values = value if (value is iterable and value is not string and value is not mapping) else [value] -%}
  {%- if values | length == 0 -%}
    {{ exceptions.raise_compiler_error("var lookback_hours must name at least one window, got []") }}
  {%- endif -%}
  {%- for item in values -%}
    {%- if item is not number or item is boolean or item != item | int or item <= 0 -%}
      {{ exceptions.raise_compiler_error(
          "var lookback_hours must be a positive whole number of hours (e.g. 24), got " ~ item ~ "") }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(values | map('int') | list) }}
{% endmacro %}

{#- The ranking windows as a one-column relation (lookback_hours), for a join. -#}
{% macro lookback_windows() %}
  (select unnest(array[{{ lookback_hours() | join(', ') }}]::integer[]) as lookback_hours)
{% endmacro %}

{% macro min_frames() %}
  {%- set value = var('min_frames', 30) -%}
  {%- if value is not number or value is boolean or value != value | int or value < 0 -%}
    {{ exceptions.raise_compiler_error(
        "var min_frames must be a whole number of frames >= 0 (e.g. 30), got " ~ value ~ "") }}
  {%- endif -%}
  {{ return(value | int) }}
{% endmacro %}

{% macro whole_var(name, default, minimum, example) %}
  {%- set value = var(name, default) -%}
  {%- if value is not number or value is boolean or value != value | int or value < minimum -%}
    {{ exceptions.raise_compiler_error(
        "var " ~ name ~ " must be a whole number >= " ~ minimum ~ " (e.g. " ~ example ~ "), got " ~ value ~ "") }}
  {%- endif -%}
  {{ return(value | int) }}
{% endmacro %}

{#- A class of a stream with fewer detections in a window is not ranked for it (settings.api_min_detections). -#}
{% macro min_detections() %}{{ return(whole_var('min_detections', 10, 0, 10)) }}{% endmacro %}

{#- A window with fewer frames is no evidence of a spike or drop (settings.anomaly_min_window_frames). -#}
{% macro min_window_frames() %}{{ return(whole_var('min_window_frames', 20, 0, 20)) }}{% endmacro %}

{#- Trailing weeks a baseline rests on, and the fewest of them a score needs (settings.baseline_*). -#}
{% macro baseline_weeks() %}{{ return(whole_var('baseline_weeks', 4, 1, 4)) }}{% endmacro %}
{% macro baseline_min_weeks() %}{{ return(whole_var('baseline_min_weeks', 2, 1, 2)) }}{% endmacro %}

{#- Added to 1.4826 * MAD in a robust z (objects per frame), so a flat history does not make noise a spike. -#}
{% macro score_floor() %}
  {%- set value = var('score_floor', 0.1) -%}
  {%- if value is not number or value is boolean or value <= 0 -%}
    {{ exceptions.raise_compiler_error("var score_floor must be a number > 0 (e.g. 0.1), got " ~ value) }}
  {%- endif -%}
  {{ return(value) }}
{% endmacro %}

{#- Hour of the week of a UTC hour: Monday 00h = 0 .. Sunday 23h = 167. -#}
{% macro hour_of_week(column) %}
  ((extract(isodow from {{ column }} at time zone 'UTC')::integer - 1) * 24
   + extract(hour from {{ column }} at time zone 'UTC')::integer)
{% endmacro %}

{% macro incremental_margin_minutes() %}
  {%- set value = var('incremental_margin_minutes', 10) -%}
  {%- if value is not number or value is boolean or value < 0 -%}
    {{ exceptions.raise_compiler_error(
        "var incremental_margin_minutes must be a number of minutes >= 0, got " ~ value ~ "") }}
  {%- endif -%}
  {{ return(value) }}
{% endmacro %}

{#- SQL for "now" of every lookback: the session setting streamscope.as_of when set (the API sets it to its
    request's now, so views answer for that moment), else the var as_of (ISO timestamp, validated by Postgres'
    cast), else now(). -#}
{% macro as_of() %}
  coalesce(nullif(current_setting('streamscope.as_of', true), '')::timestamptz, {{ as_of_default() }})
{% endmacro %}

{% macro as_of_default() %}
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

{#- Start of the UTC hour of a timestamptz, whatever the session's time zone. -#}
{% macro utc_hour(column) %}
  date_trunc('hour', {{ column }}, 'UTC')
{% endmacro %}
