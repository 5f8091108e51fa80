# Optional GPU capacity for the detector (detector_launch_type = "EC2_GPU"):
# an auto-scaling group of NVIDIA instances on the ECS GPU-optimised AMI,
# scaled by an ECS capacity provider to the number of detector tasks.

locals {
  gpu_count = local.gpu ? 1 : 0
}

data "aws_ssm_parameter" "gpu_ami" {
  count = local.gpu_count
  name  = "/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id"
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "gpu_instance" {
  count              = local.gpu_count
  name               = "${var.name_prefix}-gpu-instance"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "gpu_instance_ecs" {
  count      = local.gpu_count
  role       = aws_iam_role.gpu_instance[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

# Shell access through Session Manager instead of SSH.
resource "aws_iam_role_policy_attachment" "gpu_instance_ssm" {
  count      = local.gpu_count
  role       = aws_iam_role.gpu_instance[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "gpu" {
  count = local.gpu_count
  name  = "${var.name_prefix}-gpu-instance"
  role  = aws_iam_role.gpu_instance[0].name
  tags  = var.tags
}

resource "aws_security_group" "gpu_instance" {
  count       = local.gpu_count
  name        = "${var.name_prefix}-gpu-instance"
  description = "GPU container instances: HTTPS egress for the ECS agent and image pulls; no ingress (tasks have their own interfaces)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-gpu-instance" })
}

resource "aws_vpc_security_group_egress_rule" "gpu_instance_https" {
  count             = local.gpu_count
  security_group_id = aws_security_group.gpu_instance[0].id
  description       = "ECS agent, ECR and SSM over HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_launch_template" "gpu" {
  count                  = local.gpu_count
  name_prefix            = "${var.name_prefix}-gpu-"
  image_id               = data.aws_ssm_parameter.gpu_ami[0].value
  instance_type          = var.gpu_instance_type
  vpc_security_group_ids = [aws_security_group.gpu_instance[0].id]
  ebs_optimized          = true
  tags                   = var.tags

  iam_instance_profile {
    arn = aws_iam_instance_profile.gpu[0].arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size = 100
      volume_type = "gp3"
      # The account's default EBS key: a customer-managed key would also need a
      # key-policy grant for the Auto Scaling service-linked role.
      encrypted             = true
      delete_on_termination = true
    }
  }

  user_data = base64encode(<<-EOT
    #!/bin/bash
    cat >> /etc/ecs/ecs.config <<EOF
    ECS_CLUSTER=${aws_ecs_cluster.this.name}
    ECS_ENABLE_GPU_SUPPORT=true
    ECS_ENABLE_TASK_IAM_ROLE=true
    EOF
  EOT
  )

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name_prefix}-gpu" })
  }
}

resource "aws_autoscaling_group" "gpu" {
  count                 = local.gpu_count
  name_prefix           = "${var.name_prefix}-gpu-"
  vpc_zone_identifier   = var.subnet_ids
  min_size              = 0
  max_size              = var.gpu_max_instances
  protect_from_scale_in = false

  launch_template {
    id      = aws_launch_template.gpu[0].id
    version = aws_launch_template.gpu[0].latest_version
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  dynamic "tag" {
    for_each = var.tags
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "gpu" {
  count = local.gpu_count
  name  = "${var.name_prefix}-gpu"
  tags  = var.tags

  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.gpu[0].arn
    managed_termination_protection = "DISABLED"

    managed_scaling {
      status          = "ENABLED"
      target_capacity = 100
    }
  }
}
