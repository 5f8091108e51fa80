"""The stream reader: registered streams in, sampled JPEG frames out on the ``frames`` topic.

Pure logic: ``formats`` (which yt-dlp format to open), ``playlist`` (HLS playlist state), ``sampling``
(which frames to decode and keep, capture times, backoff). I/O around it: ``resolve`` (yt-dlp, every connection),
``capture`` (PyAV/FFmpeg), ``publisher`` (Pulsar), ``health`` (Postgres), ``metrics`` (Prometheus),
``worker`` (one thread per stream), ``runner`` (many streams, bounded or continuous runs), ``cli``.
``testsrc`` is a live HLS source for tests and the demo.
"""
