"""EventBridge and SNS for guardsync's alerts: what moto 5.2.5 lacks.

EventBridge:
  * TestEventPattern (moto: NotImplementedError) answers with moto's own
    matcher (`EventPattern`, which implements `numeric`, `prefix`, ...), after
    the checks AWS makes: the pattern is valid, the event is JSON and has the
    mandatory fields `id`, `account`, `source`, `time`, `region`, `resources`,
    `detail-type` (API_TestEventPattern).
  * `numeric` filters are validated in PutRule and TestEventPattern as AWS
    does: pairs of an operator (`<`, `<=`, `=`, `>=`, `>`) and a number
    (moto accepted `[">=", "7"]` and then never matched).

SNS, e-mail subscriptions (moto confirms every subscription at once):
  * Subscribe with protocol `email` or `email-json` makes a subscription
    pending confirmation: Subscribe answers `pending confirmation` (unless
    `ReturnSubscriptionArn=true`), ListSubscriptions(ByTopic) show its
    SubscriptionArn as `PendingConfirmation`, GetTopicAttributes counts it in
    `SubscriptionsPending`. Subscribing the same address again keeps the one
    subscription (AWS sends the confirmation e-mail again).
  * ConfirmSubscription(TopicArn, Token): the emulator's token is the
    address itself (AWS mails a secret token); it confirms the subscription
    and answers its ARN. Any other token is `InvalidParameter`.
  * Unsubscribe(`PendingConfirmation`) is `InvalidParameter`, as in AWS.

Everything is patched on moto's classes, so it holds whichever URL map a
request goes through.
"""

import json
import numbers

from moto.events.exceptions import InvalidEventPatternException, ValidationException
from moto.events.models import EventPattern, EventPatternParser
from moto.events.responses import EventsHandler
from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend
from moto.sns.responses import SNSResponse

PENDING = "PendingConfirmation"
EMAIL_PROTOCOLS = ("email", "email-json")
NUMERIC_OPERATORS = ("<", "<=", "=", ">=", ">")
EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


# ---------------------------------------------------------------- EventBridge

def check_numeric(pattern) -> None:
    """Raise InvalidEventPatternException for a malformed `numeric` filter anywhere in `pattern`."""
    if isinstance(pattern, dict):
        for key, value in pattern.items():
            if key == "numeric":
                check_numeric_filter(value)
            else:
                check_numeric(value)
    elif isinstance(pattern, list):
        for item in pattern:
            check_numeric(item)


def check_numeric_filter(value) -> None:
    if not isinstance(value, list) or not value or len(value) % 2 or len(value) > 4:
        raise InvalidEventPatternException(
            reason="numeric must be a list of one or two (operator, number) pairs")
    for op, number in zip(value[::2], value[1::2]):
        if op not in NUMERIC_OPERATORS:
            raise InvalidEventPatternException(reason=f"Unrecognized numeric range operator: {op}")
        if isinstance(number, bool) or not isinstance(number, numbers.Number):
            raise InvalidEventPatternException(reason=f"Value of {op} must be numeric")


_original_validate = EventPatternParser._validate_event_pattern


def _validate_event_pattern(self, pattern):
    _original_validate(self, pattern)
    check_numeric(pattern)


def test_event_pattern(self):
    raw_pattern = self._get_param("EventPattern")
    raw_event = self._get_param("Event")
    if not raw_pattern:
        raise ValidationException("Parameter EventPattern is required.")
    if not raw_event:
        raise ValidationException("Parameter Event is required.")
    pattern = EventPattern.load(raw_pattern)
    try:
        event = json.loads(raw_event)
    except ValueError:
        raise ValidationException("Parameter Event is not valid.")
    if not isinstance(event, dict) or any(f not in event for f in EVENT_FIELDS):
        missing = [f for f in EVENT_FIELDS if not isinstance(event, dict) or f not in event]
        raise ValidationException(
            f"Parameter Event is not valid: missing mandatory fields {', '.join(missing)}.")
    return json.dumps({"Result": pattern.matches_event(event)}), self.response_headers


# ------------------------------------------------------------------------ SNS

_original_subscribe = SNSBackend.subscribe


def _subscribe(self, topic_arn, endpoint, protocol):
    existing = self._find_subscription(topic_arn, endpoint, protocol)
    sub = _original_subscribe(self, topic_arn, endpoint, protocol)
    if existing is None and protocol in EMAIL_PROTOCOLS:
        sub.gs_pending = True
        sub.attributes["PendingConfirmation"] = True
        sub.attributes["ConfirmationWasAuthenticated"] = False
    return sub


def is_pending(sub) -> bool:
    return getattr(sub, "gs_pending", False)


def listed(sub) -> dict:
    return {"SubscriptionArn": PENDING if is_pending(sub) else sub.arn, "Owner": sub.owner,
            "Protocol": sub.protocol, "Endpoint": sub.endpoint, "TopicArn": sub.topic.arn}


_original_subscribe_response = SNSResponse.subscribe


def subscribe_response(self):
    result = _original_subscribe_response(self)
    topic_arn = self._get_param("TopicArn")
    sub = self.backend._find_subscription(topic_arn, self._get_param("Endpoint"),
                                          self._get_param("Protocol"))
    returns_arn = str(self._get_param("ReturnSubscriptionArn", "false")).lower() == "true"
    if sub is not None and is_pending(sub) and not returns_arn:
        result.result["SubscriptionArn"] = "pending confirmation"
    return result


def _listing(original):
    def patched(self):
        result = original(self)
        result.result["Subscriptions"] = [listed(s) for s in result.result["Subscriptions"]]
        return result

    return patched


_original_unsubscribe = SNSResponse.unsubscribe


def unsubscribe_response(self):
    if self._get_param("SubscriptionArn") == PENDING:
        raise SNSInvalidParameter("Invalid parameter: SubscriptionArn Reason: "
                                  "a subscription pending confirmation cannot be unsubscribed")
    return _original_unsubscribe(self)


def confirm_subscription_response(self):
    from moto.core.responses import ActionResult

    topic_arn = self._get_param("TopicArn")
    token = self._get_param("Token")
    topic = self.backend.get_topic(topic_arn)
    for sub in self.backend._get_topic_subscriptions(topic):
        if sub.protocol in EMAIL_PROTOCOLS and sub.endpoint == token:
            sub.gs_pending = False
            sub.confirmed = True
            sub.attributes["PendingConfirmation"] = False
            return ActionResult({"SubscriptionArn": sub.arn})
    raise SNSInvalidParameter("Invalid token")


_original_get_topic_attributes = SNSResponse.get_topic_attributes


def get_topic_attributes_response(self):
    topic = self.backend.get_topic(self._get_param("TopicArn"))
    subs = self.backend._get_topic_subscriptions(topic)
    topic.subscriptions_pending = sum(1 for s in subs if is_pending(s))
    topic.subscriptions_confimed = len(subs) - topic.subscriptions_pending
    return _original_get_topic_attributes(self)


def install() -> None:
    EventPatternParser._validate_event_pattern = _validate_event_pattern
    EventsHandler.test_event_pattern = test_event_pattern
    SNSBackend.subscribe = _subscribe
    SNSResponse.subscribe = subscribe_response
    SNSResponse.list_subscriptions = _listing(SNSResponse.list_subscriptions)
    SNSResponse.list_subscriptions_by_topic = _listing(SNSResponse.list_subscriptions_by_topic)
    SNSResponse.unsubscribe = unsubscribe_response
    SNSResponse.confirm_subscription = confirm_subscription_response
    SNSResponse.get_topic_attributes = get_topic_attributes_response
