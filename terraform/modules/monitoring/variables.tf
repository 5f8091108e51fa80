variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"streamscope-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the alarm topic."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Each alarm_emails entry must be an e-mail address."
  }
}

variable "api_id" {
  description = "Id of the HTTP API (dimension ApiId)."
  type        = string
}

variable "api_stage" {
  description = "Stage of the HTTP API (dimension Stage)."
  type        = string
  default     = "$default"
}

variable "api_function_name" {
  description = "Name of the API Lambda function."
  type        = string
}

variable "api_5xx_threshold" {
  description = "Alarm when the API returns more than this many 5xx responses in 5 minutes."
  type        = number
  default     = 5

  validation {
    condition     = var.api_5xx_threshold >= 0
    error_message = "The api_5xx_threshold must not be negative."
  }
}

variable "database_instance_id" {
  description = "RDS instance identifier (dimension DBInstanceIdentifier)."
  type        = string
}

variable "database_free_storage_threshold_gb" {
  description = "Alarm when the database has less free storage than this many GiB."
  type        = number
  default     = 5

  validation {
    condition     = var.database_free_storage_threshold_gb > 0
    error_message = "The database_free_storage_threshold_gb must be positive."
  }
}

variable "cluster_name" {
  description = "Name of the pipeline's ECS cluster."
  type        = string
}

variable "pipeline_services" {
  description = "ECS services that must keep at least one running task (alarm on RunningTaskCount < 1). Names must be known at plan time."
  type        = list(string)
  default     = []
}

variable "backlog_metric_namespace" {
  description = "CloudWatch namespace of the Pulsar backlog metric (pipeline module output)."
  type        = string
  default     = "Streamscope/Pulsar"
}

variable "backlog_topics" {
  description = "Pulsar topics whose backlog (pulsar_msg_backlog, dimension topic) is watched."
  type        = list(string)
  default     = ["persistent://public/default/streamscope-frames", "persistent://public/default/streamscope-detections"]

  validation {
    condition     = alltrue([for t in var.backlog_topics : can(regex("^(persistent|non-persistent)://[^/]+/[^/]+/.+$", t))])
    error_message = "Each backlog topic must be a full topic name, e.g. persistent://public/default/streamscope-frames."
  }
}

variable "backlog_threshold" {
  description = "Alarm when a topic's backlog stays above this many messages for backlog_evaluation_minutes."
  type        = number
  default     = 5000

  validation {
    condition     = var.backlog_threshold > 0
    error_message = "The backlog_threshold must be positive."
  }
}

variable "backlog_evaluation_minutes" {
  description = "How many consecutive minutes the backlog must stay above the threshold (in steps of 5)."
  type        = number
  default     = 15

  validation {
    condition     = var.backlog_evaluation_minutes >= 5 && var.backlog_evaluation_minutes % 5 == 0 && var.backlog_evaluation_minutes <= 1440
    error_message = "The backlog_evaluation_minutes must be a multiple of 5 between 5 and 1440."
  }
}

variable "backlog_missing_data" {
  description = "How the backlog alarms treat missing data: \"breaching\" (a silent broker alarms) or \"notBreaching\" (e.g. an external broker that publishes no metric)."
  type        = string
  default     = "breaching"

  validation {
    condition     = contains(["breaching", "notBreaching", "ignore", "missing"], var.backlog_missing_data)
    error_message = "The backlog_missing_data must be breaching, notBreaching, ignore or missing."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
