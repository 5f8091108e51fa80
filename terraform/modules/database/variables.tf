variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"streamscope-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "Id of the VPC the database lives in."
  type        = string

  validation {
    condition     = can(regex("^vpc-", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Isolated (database-tier) subnets, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts storage, Performance Insights, the master-user secret and the log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "engine_version" {
  description = "PostgreSQL engine version (major, or major.minor). Minor versions upgrade automatically."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "The engine_version must be PostgreSQL 14 to 19, e.g. \"17\" or \"17.4\"."
  }
}

variable "instance_class" {
  description = "RDS instance class, e.g. db.t4g.micro (dev) or db.m7g.large (prod)."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "The instance_class must look like db.<family>.<size>, e.g. db.t4g.micro."
  }
}

variable "allocated_storage_gb" {
  description = "Initial gp3 storage in GiB (20-65536)."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "The allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  description = "Upper limit for storage autoscaling in GiB; 0 turns autoscaling off."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage_gb == 0 || (var.max_allocated_storage_gb >= 20 && var.max_allocated_storage_gb <= 65536)
    error_message = "The max_allocated_storage_gb must be 0 or between 20 and 65536."
  }
}

variable "multi_az" {
  description = "Run a synchronous standby in a second availability zone (doubles the instance cost)."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (1-35)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "The backup_retention_days must be between 1 and 35: automated backups are never turned off."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (set true in prod)."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot (only sensible for throw-away dev databases)."
  type        = bool
  default     = false
}

variable "database_name" {
  description = "Name of the application database created on the instance."
  type        = string
  default     = "streamscope"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "The database_name must start with a letter and contain only lower-case letters, digits and underscores (max 63)."
  }
}

variable "master_username" {
  description = "Master user name. Its password is generated and kept in Secrets Manager by RDS; it is never in Terraform."
  type        = string
  default     = "streamscope"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,15}$", var.master_username)) && !contains(["postgres", "admin", "rdsadmin"], var.master_username)
    error_message = "The master_username must be 1-16 lower-case letters, digits or underscores, start with a letter, and not be a reserved name."
  }
}

variable "monitoring_interval" {
  description = "Seconds between Enhanced Monitoring samples (0 turns it off; 1, 5, 10, 15, 30 or 60)."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "The monitoring_interval must be 0, 1, 5, 10, 15, 30 or 60."
  }
}

variable "performance_insights_enabled" {
  description = "Turn on Performance Insights (not available on the smallest burstable classes such as db.t4g.micro)."
  type        = bool
  default     = true
}

variable "performance_insights_retention_days" {
  description = "Days Performance Insights keeps data: 7 (free tier) or a multiple of 31 up to 731."
  type        = number
  default     = 7

  validation {
    condition     = var.performance_insights_retention_days == 7 || var.performance_insights_retention_days == 731 || (var.performance_insights_retention_days % 31 == 0 && var.performance_insights_retention_days <= 713)
    error_message = "The performance_insights_retention_days must be 7, 731, or a multiple of 31 up to 713."
  }
}

variable "log_retention_days" {
  description = "Days to keep the PostgreSQL logs exported to CloudWatch Logs."
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
