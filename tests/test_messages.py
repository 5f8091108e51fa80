"""The frame and detection contracts: round trips, and one specific error for anything malformed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest

from core.messages import (
    Detection,
    DetectionMessage,
    FrameMeta,
    MessageError,
    decode_detections,
    decode_frame,
    encode_detections,
    encode_frame,
)

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
NOW = datetime(2026, 11, 23, 12, 0, 0, 123000, tzinfo=UTC)


def frame_meta(**overrides) -> FrameMeta:
    values = dict(stream_id=7, session_id="s-1", seq=42, capture_time=NOW, width=1280, height=720)
    values.update(overrides)
    return FrameMeta(**values)


def detection_message(**overrides) -> DetectionMessage:
    values = dict(
        stream_id=7, session_id="s-1", seq=42, capture_time=NOW, model="yolo11n", weights_hash="0ebbc80d",
        image_width=1280, image_height=720, inference_ms=12.5,
        detections=[Detection(class_id=0, class_name="person", confidence=0.9, box=(0.1, 0.2, 0.3, 0.9), track_id=3),
                    Detection(class_id=9, class_name="traffic light", confidence=0.5, box=(0.5, 0.0, 0.6, 0.1))],
    )
    values.update(overrides)
    return DetectionMessage(**values)


def test_frame_round_trip_keeps_identity_time_and_payload() -> None:
    out = encode_frame(frame_meta(), JPEG)
    assert out.key == "7"
    frame = decode_frame(out.properties, out.event_timestamp_ms, out.payload)
    assert frame.meta == frame_meta()
    assert frame.jpeg == JPEG


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: p.pop("schema"), "schema"),
        (lambda p: p.update(schema="streamscope.frame/99"), "schema"),
        (lambda p: p.pop("session_id"), "session_id"),
        (lambda p: p.update(seq="forty-two"), "malformed"),
        (lambda p: p.update(width="0"), "non-positive"),
        (lambda p: p.update(seq="-1"), "negative"),
    ],
)
def test_malformed_frame_properties_raise_message_error(mutate, reason: str) -> None:
    out = encode_frame(frame_meta(), JPEG)
    properties = dict(out.properties)
    mutate(properties)
    with pytest.raises(MessageError, match=reason):
        decode_frame(properties, out.event_timestamp_ms, out.payload)


def test_frame_without_jpeg_payload_or_event_time_is_refused() -> None:
    out = encode_frame(frame_meta(), JPEG)
    with pytest.raises(MessageError, match="JPEG"):
        decode_frame(out.properties, out.event_timestamp_ms, b"GIF89a....")
    with pytest.raises(MessageError, match="event time"):
        decode_frame(out.properties, 0, out.payload)
    with pytest.raises(MessageError, match="JPEG"):
        encode_frame(frame_meta(), b"not a jpeg")


def test_detection_round_trip_including_empty_frames() -> None:
    for message in (detection_message(), detection_message(detections=[])):
        out = encode_detections(message)
        assert out.key == "7"
        assert out.event_timestamp_ms == int(NOW.timestamp() * 1000)
        assert decode_detections(out.payload) == message


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (b"", "message"),
        (b"\xff\xfe garbage", "message"),
        (b"[]", "message"),
        (b'{"schema_version": 2}', "schema_version"),
    ],
)
def test_undecodable_detection_payloads_raise_message_error(payload: bytes, where: str) -> None:
    with pytest.raises(MessageError, match=where):
        decode_detections(payload)


def test_detection_contract_rejects_out_of_range_values() -> None:
    good = msgspec.to_builtins(detection_message())
    for path, value in [("confidence", 1.5), ("box", [0.5, 0.5, 0.4, 0.9]), ("box", [0, 0, 2, 1])]:
        bad = {**good, "detections": [{**good["detections"][0], path: value}]}
        with pytest.raises(MessageError, match="detections"):
            decode_detections(json.dumps(bad).encode())
    naive = {**good, "capture_time": "2026-11-23T12:00:00"}
    with pytest.raises(MessageError, match="timezone"):
        decode_detections(json.dumps(naive).encode())


def test_errors_name_the_field_and_the_rule() -> None:
    good = msgspec.to_builtins(detection_message())
    bad = {**good, "detections": [good["detections"][0], {**good["detections"][1], "confidence": 1.5}]}
    with pytest.raises(MessageError, match=r"at detections\.1\.confidence: Expected `float` <= 1\.0"):
        decode_detections(json.dumps(bad).encode())
    with pytest.raises(MessageError, match="unknown field `colour`"):
        decode_detections(json.dumps({**good, "colour": "red"}).encode())


def test_a_producer_cannot_send_what_consumers_would_refuse() -> None:
    # Structs are not checked against their constraints when constructed; encoding checks them.
    out_of_range = Detection(class_id=0, class_name="person", confidence=1.5, box=(0.1, 0.2, 0.3, 0.9))
    with pytest.raises(MessageError, match="confidence"):
        encode_detections(detection_message(detections=[out_of_range]))
    with pytest.raises(MessageError, match="seq"):
        encode_detections(detection_message(seq=-1))
    with pytest.raises(ValueError, match="x1 <= x2"):  # the box order is checked at construction as well
        Detection(class_id=0, class_name="person", confidence=0.5, box=(0.5, 0.2, 0.3, 0.9))


def test_the_wire_format_is_the_one_pydantic_wrote() -> None:
    # Byte for byte what the contract wrote before it moved to msgspec: topics may still hold such messages.
    earlier = (b'{"schema_version":1,"stream_id":7,"session_id":"s-1","seq":42,"capture_time":'
               b'"2026-11-23T12:00:00.123000Z","model":"yolo11n","weights_hash":"0ebbc80d","image_width":1280,'
               b'"image_height":720,"inference_ms":12.5,"detections":[{"class_id":0,"class_name":"person",'
               b'"confidence":0.9,"box":[0.1,0.2,0.3,0.9],"track_id":3},{"class_id":9,"class_name":"traffic light",'
               b'"confidence":0.5,"box":[0.5,0.0,0.6,0.1],"track_id":null}]}')
    assert decode_detections(earlier) == detection_message()
    assert encode_detections(detection_message()).payload == earlier
