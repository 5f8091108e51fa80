variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"streamscope-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "repositories" {
  description = "Short names of the ECR repositories to create: \"api\" holds the Lambda image (Mangum handler), \"pipeline\" the image running the streamscope CLI and Airflow (detector, aggregator, readers, dbt), \"pulsar\" and \"cloudwatch-agent\" the mirrored images of the self-managed broker task; each is built by a Dockerfile under docker/."
  type        = list(string)
  default     = ["api", "pipeline", "pulsar", "cloudwatch-agent"]

  validation {
    condition     = length(var.repositories) > 0 && alltrue([for r in var.repositories : can(regex("^[a-z][a-z0-9-]{0,30}$", r))])
    error_message = "Each repository name must be lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "keep_images" {
  description = "How many tagged images each repository keeps; older ones expire."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_images >= 1 && var.keep_images <= 1000
    error_message = "The keep_images must be between 1 and 1000."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the images."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
