variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"streamscope-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "Id of the VPC the function runs in."
  type        = string

  validation {
    condition     = can(regex("^vpc-", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets for the function's network interfaces."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "Give at least one private subnet."
  }
}

variable "endpoints_security_group_id" {
  description = "Security group of the interface VPC endpoints (Secrets Manager); the function may send HTTPS to it and nowhere else but the database."
  type        = string

  validation {
    condition     = can(regex("^sg-", var.endpoints_security_group_id))
    error_message = "The endpoints_security_group_id must be a security group id (sg-...)."
  }
}

variable "database_security_group_id" {
  description = "Security group of the database; this module adds an ingress rule to it from the function."
  type        = string

  validation {
    condition     = can(regex("^sg-", var.database_security_group_id))
    error_message = "The database_security_group_id must be a security group id (sg-...)."
  }
}

variable "database_address" {
  description = "Private DNS name of the database."
  type        = string
}

variable "database_port" {
  description = "Database port."
  type        = number
  default     = 5432

  validation {
    condition     = var.database_port > 0 && var.database_port < 65536
    error_message = "The database_port must be a TCP port number."
  }
}

variable "database_name" {
  description = "Application database name."
  type        = string
}

variable "database_username" {
  description = "Database user name (its password is read from database_secret_arn at start-up)."
  type        = string
}

variable "database_secret_arn" {
  description = "ARN of the RDS-managed secret with the database password; the function may read this secret and the API tokens secret only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.database_secret_arn))
    error_message = "The database_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key for environment variables, the API tokens secret and the log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "image_repository_url" {
  description = "ECR repository URL of the API image (registry module output), without a tag."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9/_-]+$", var.image_repository_url))
    error_message = "The image_repository_url must be an ECR repository URL without a tag."
  }
}

variable "image_tag" {
  description = "Tag of the API image to run (push it before applying; tags are immutable)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "The image_tag must be a valid Docker tag."
  }
}

variable "architecture" {
  description = "CPU architecture of the image: \"arm64\" (cheaper per GB-second) or \"x86_64\"."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "The architecture must be arm64 or x86_64."
  }
}

variable "memory_mb" {
  description = "Memory of the function in MB (128-10240); CPU grows with it."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "The memory_mb must be between 128 and 10240."
  }
}

variable "timeout_seconds" {
  description = "Function timeout in seconds (API Gateway gives up after 30)."
  type        = number
  default     = 15

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 30
    error_message = "The timeout_seconds must be between 1 and 30 (the HTTP API integration limit)."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function; keeps database connections bounded."
  type        = number
  default     = 20

  validation {
    condition     = var.reserved_concurrency >= 1 && var.reserved_concurrency <= 1000
    error_message = "The reserved_concurrency must be between 1 and 1000."
  }
}

variable "cors_origins" {
  description = "Origins allowed by the API's CORS policy (the web UI's https://... address); passed as STREAMSCOPE_CORS_ORIGINS."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_origins : can(regex("^https?://[^/*]+$", o))])
    error_message = "Each CORS origin must be scheme://host[:port] without a path or wildcard."
  }
}

variable "extra_environment" {
  description = "Further non-secret STREAMSCOPE_* settings for the function."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.extra_environment : can(regex("^STREAMSCOPE_[A-Z0-9_]+$", k)) && !can(regex("(TOKEN|PASSWORD|SECRET)", k))])
    error_message = "Keys must be STREAMSCOPE_* settings, and no tokens, passwords or secrets: those live in Secrets Manager."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the HTTP API accepts."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "The throttling_rate_limit must be positive."
  }
}

variable "throttling_burst_limit" {
  description = "Request burst the HTTP API accepts."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "The throttling_burst_limit must be positive."
  }
}

variable "log_retention_days" {
  description = "Days to keep the function's and the API's access logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention period CloudWatch Logs supports."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
