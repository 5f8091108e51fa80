variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"streamscope-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "Id of the VPC the tasks run in."
  type        = string

  validation {
    condition     = can(regex("^vpc-", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets for the tasks (and GPU instances); they need NAT for readers to reach stream hosts."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "Give at least one private subnet."
  }
}

variable "database_security_group_id" {
  description = "Security group of the database; this module adds an ingress rule to it from the pipeline tasks."
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
  description = "Database user name; the password comes from database_secret_arn."
  type        = string
}

variable "database_secret_arn" {
  description = "ARN of the RDS-managed secret; its \"password\" key is injected as PGPASSWORD."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.database_secret_arn))
    error_message = "The database_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key for log groups, the Pulsar volume and secret decryption."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "image_repository_url" {
  description = "ECR repository URL of the pipeline image (runs the streamscope CLI), without a tag."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9/_-]+$", var.image_repository_url))
    error_message = "The image_repository_url must be an ECR repository URL without a tag."
  }
}

variable "image_tag" {
  description = "Tag of the pipeline image to run."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "The image_tag must be a valid Docker tag."
  }
}

variable "service_sizes" {
  description = "CPU units, memory (MiB) and task count of each service. Keys: detector, aggregator, airflow (the Airflow scheduler, whose LocalExecutor runs the reader tasks and dbt; 0 or 1 task; the other Airflow processes are 512/1024). Fargate needs valid cpu/memory pairs."
  type = map(object({
    cpu           = number
    memory        = number
    desired_count = number
  }))
  default = {
    detector   = { cpu = 2048, memory = 4096, desired_count = 1 }
    aggregator = { cpu = 512, memory = 1024, desired_count = 1 }
    airflow    = { cpu = 1024, memory = 4096, desired_count = 1 }
  }

  validation {
    condition     = length(setsubtract(toset(["detector", "aggregator", "airflow"]), toset(keys(var.service_sizes)))) == 0 && length(keys(var.service_sizes)) == 3
    error_message = "The service_sizes must have exactly the keys detector, aggregator and airflow."
  }

  validation {
    condition     = alltrue([for k, s in var.service_sizes : contains([256, 512, 1024, 2048, 4096, 8192, 16384], s.cpu) && s.memory >= 512 && s.memory <= 122880 && s.desired_count >= 0 && s.desired_count <= 50])
    error_message = "Each service needs cpu in 256..16384 (Fargate steps), memory 512..122880 MiB and desired_count 0..50."
  }

  validation {
    condition     = lookup(var.service_sizes, "airflow", { cpu = 0, memory = 0, desired_count = 0 }).desired_count <= 1
    error_message = "One Airflow scheduler (its LocalExecutor runs the readers): run 0 or 1 task."
  }
}

variable "detector_launch_type" {
  description = "Where the detector runs: \"FARGATE\" (CPU inference) or \"EC2_GPU\" (an auto-scaling group of GPU instances, STREAMSCOPE_DETECTOR_DEVICE=cuda:0)."
  type        = string
  default     = "FARGATE"

  validation {
    condition     = contains(["FARGATE", "EC2_GPU"], var.detector_launch_type)
    error_message = "The detector_launch_type must be FARGATE or EC2_GPU."
  }
}

variable "detector_device" {
  description = "STREAMSCOPE_DETECTOR_DEVICE for the detector: auto, cpu or cuda:N. With EC2_GPU, \"auto\" picks the GPU."
  type        = string
  default     = "auto"

  validation {
    condition     = can(regex("^(auto|cpu|cuda:[0-9]+)$", var.detector_device))
    error_message = "The detector_device must be auto, cpu or cuda:N."
  }
}

variable "gpu_instance_type" {
  description = "EC2 instance type for the GPU detector (NVIDIA, ECS GPU-optimised AMI), e.g. g4dn.xlarge or g5.xlarge."
  type        = string
  default     = "g4dn.xlarge"

  validation {
    condition     = can(regex("^(g4dn|g5|g6|g6e|p3|p4d|p5)\\.[0-9]*x?large$", var.gpu_instance_type))
    error_message = "The gpu_instance_type must be an NVIDIA GPU type: g4dn, g5, g6, g6e, p3, p4d or p5 families."
  }
}

variable "gpu_max_instances" {
  description = "Upper bound of the GPU auto-scaling group (EC2_GPU only); ECS scales it to the detector task count."
  type        = number
  default     = 2

  validation {
    condition     = var.gpu_max_instances >= 1 && var.gpu_max_instances <= 20
    error_message = "The gpu_max_instances must be between 1 and 20."
  }
}

variable "pulsar_mode" {
  description = "\"self_managed\": run Pulsar standalone as an ECS service with its data on encrypted EFS (fine for one environment's load); \"external\": use pulsar_url (e.g. a managed cluster)."
  type        = string
  default     = "self_managed"

  validation {
    condition     = contains(["self_managed", "external"], var.pulsar_mode)
    error_message = "The pulsar_mode must be self_managed or external."
  }
}

variable "pulsar_url" {
  description = "Broker URL when pulsar_mode is external (pulsar://host:6650 or pulsar+ssl://host:6651); ignored otherwise."
  type        = string
  default     = ""

  validation {
    condition     = var.pulsar_url == "" || can(regex("^pulsar(\\+ssl)?://[A-Za-z0-9.-]+(:[0-9]+)?(,[A-Za-z0-9.-]+(:[0-9]+)?)*/?$", var.pulsar_url))
    error_message = "The pulsar_url must be empty or pulsar://host:port / pulsar+ssl://host:port."
  }
}

variable "pulsar_egress_cidrs" {
  description = "CIDR blocks of an external Pulsar cluster that tasks may reach on 6650/6651 (external mode only)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.pulsar_egress_cidrs : can(cidrhost(c, 0))])
    error_message = "Each pulsar_egress_cidrs entry must be a valid CIDR block."
  }
}

variable "mirror_repository_urls" {
  description = "ECR repositories of the third-party images the self-managed Pulsar task runs, built (mirrored) by docker/pulsar.Dockerfile and docker/cloudwatch-agent.Dockerfile and tagged like the pipeline image. Keys: pulsar, cloudwatch-agent."
  type        = map(string)

  validation {
    condition     = length(setsubtract(toset(["pulsar", "cloudwatch-agent"]), toset(keys(var.mirror_repository_urls)))) == 0
    error_message = "The mirror_repository_urls must have the keys pulsar and cloudwatch-agent."
  }
}

variable "pulsar_cpu" {
  description = "CPU units of the self-managed Pulsar task."
  type        = number
  default     = 1024

  validation {
    condition     = contains([512, 1024, 2048, 4096, 8192], var.pulsar_cpu)
    error_message = "The pulsar_cpu must be 512, 1024, 2048, 4096 or 8192."
  }
}

variable "pulsar_memory" {
  description = "Memory (MiB) of the self-managed Pulsar task; the JVM gets about a quarter as heap and a quarter as direct memory."
  type        = number
  default     = 4096

  validation {
    condition     = var.pulsar_memory >= 2048 && var.pulsar_memory <= 61440
    error_message = "The pulsar_memory must be between 2048 and 61440 MiB."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the Pulsar backlog metrics (pulsar_msg_backlog per topic) are published under."
  type        = string
  default     = "Streamscope/Pulsar"

  validation {
    condition     = can(regex("^[A-Za-z0-9/_.#:-]{1,255}$", var.metrics_namespace)) && !can(regex("^AWS/", var.metrics_namespace))
    error_message = "The metrics_namespace must be a custom CloudWatch namespace (not AWS/...)."
  }
}

variable "stream_egress_ports" {
  description = "TCP ports the readers may open to any internet host to fetch streams (HTTPS/HTTP for YouTube and HLS; add 554 for RTSP, 1935 for RTMP)."
  type        = list(number)
  default     = [80, 443]

  validation {
    condition     = length(var.stream_egress_ports) > 0 && alltrue([for p in var.stream_egress_ports : p > 0 && p < 65536 && floor(p) == p])
    error_message = "Each stream_egress_ports entry must be a TCP port number."
  }
}

variable "metrics_scraper_cidrs" {
  description = "Allow-list of CIDR blocks (inside the VPC or a peered monitoring network) that may scrape the Prometheus ports 9101-9103. Never 0.0.0.0/0."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.metrics_scraper_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "Each metrics_scraper_cidrs entry must be a valid CIDR block and not 0.0.0.0/0 or ::/0."
  }
}

variable "airflow_ui_allowed_cidrs" {
  description = "Allow-list of CIDR blocks (VPN, bastion or office range) that may open the Airflow UI on port 8080. Never 0.0.0.0/0: the UI is not meant for the internet."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.airflow_ui_allowed_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "Each airflow_ui_allowed_cidrs entry must be a valid CIDR block and not 0.0.0.0/0 or ::/0."
  }
}

variable "extra_environment" {
  description = "Further non-secret STREAMSCOPE_* (or AIRFLOW__*) settings for every pipeline container."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.extra_environment : can(regex("^(STREAMSCOPE|AIRFLOW)_[A-Z0-9_]+$", k)) && !can(regex("(TOKEN|PASSWORD|SECRET)", k))])
    error_message = "Keys must be STREAMSCOPE_* or AIRFLOW__* settings, and no tokens, passwords or secrets: those live in Secrets Manager."
  }
}

variable "log_retention_days" {
  description = "Days to keep the pipeline's container logs."
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

variable "airflow_database_name" {
  description = "Airflow's metadata database: a separate database on the RDS instance (created once, docs/deploy.md)."
  type        = string
  default     = "airflow"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.airflow_database_name))
    error_message = "The airflow_database_name must be a lower-case Postgres identifier."
  }
}
