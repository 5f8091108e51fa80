"""The detector: frames topic -> batched YOLO inference (CPU or GPU) -> per-stream tracking -> detections topic.

Heavy modules (torch, ultralytics, cv2, pulsar) are imported inside functions, so ``streamscope --help`` and
the other components never pay for them.
"""
