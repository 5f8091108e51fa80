variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"streamscope-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "price_class" {
  description = "CloudFront price class: PriceClass_100 (North America and Europe, cheapest), PriceClass_200 or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "The price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "aliases" {
  description = "Custom host names of the web UI (e.g. [\"streamscope.example.org\"]); needs acm_certificate_arn. Empty: use the *.cloudfront.net name."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.aliases : can(regex("^[a-z0-9.-]+\\.[a-z]{2,}$", a))])
    error_message = "Each alias must be a lower-case DNS name."
  }
}

variable "acm_certificate_arn" {
  description = "ARN of an ACM certificate in us-east-1 covering the aliases; empty string for the default CloudFront certificate."
  type        = string
  default     = ""

  validation {
    condition     = var.acm_certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:us-east-1:", var.acm_certificate_arn))
    error_message = "The acm_certificate_arn must be empty or an ACM certificate ARN in us-east-1 (CloudFront's region)."
  }
}

variable "web_acl_arn" {
  description = "ARN of a WAFv2 web ACL (scope CLOUDFRONT) to attach, or empty string for none."
  type        = string
  default     = ""

  validation {
    condition     = var.web_acl_arn == "" || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:", var.web_acl_arn))
    error_message = "The web_acl_arn must be empty or a WAFv2 web ACL ARN in us-east-1."
  }
}

variable "access_logs" {
  description = "Keep CloudFront and S3 access logs in a separate private bucket."
  type        = bool
  default     = true
}

variable "access_log_retention_days" {
  description = "Days to keep access logs in the log bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.access_log_retention_days >= 1 && var.access_log_retention_days <= 3650
    error_message = "The access_log_retention_days must be between 1 and 3650."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the buckets with their objects (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
