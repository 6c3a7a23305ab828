"""Per-request costs of moto 5.2.5 that grow with the organization, cut.

moto serves one call at a time (one Python process), so its time per call
bounds how fast any test or benchmark can go. Profiled with py-spy on the
latency benchmark (302 accounts x 6 Regions), four lookups made every call
cost time in proportion to the accounts, or touched the disk:

* `BackendDict.__getitem__` (an account's backend) checks that the account
  exists with `account_id not in list(self.keys())` under a process-wide
  lock, then scans `BackendDict._instances` comparing with `__eq__`. The
  emulator's GuardDuty rules look up every account's backend to find a
  member's administrator: 60% of the emulator's CPU, about 10 ms a call.
  An account already present needs neither: it was added to `_instances`
  when it was created, and moto's reset clears both together.
* `get_account_id_from` (whose account signed the call; twice a call) scans
  every account's IAM backend in every partition, and finds nothing for the
  administrator's own credentials, the most common caller. A key found is
  remembered (and checked to still exist), and so is a key not found,
  until moto creates that key.
* `method_names_from_class` lists a response class's methods with
  `inspect.getmembers` on every call; the classes are patched once, before
  the first request, so the list is kept per class.
* `DomainDispatcherApplication.get_backend_for_host` lists moto's package
  directory on disk, then tries every service's URL pattern against the
  Host header; the answer depends on the host alone, so it is kept per host.

None of these changes what moto answers: they remember answers that cannot
change, or that are dropped when they could.
"""

import threading

from moto.core.base_backend import BackendDict

_LOCK = threading.Lock()
# access key -> account id, for keys some IAM backend holds
_KEY_ACCOUNT: dict[str, str] = {}
# access keys no IAM backend held when asked, and not created since
_KEY_MISSING: set[str] = set()


def _create_if_missing(create):
    def wrapped(self, account_id: str) -> None:
        if not dict.__contains__(self, account_id):
            create(self, account_id)

    return wrapped


def _holds(account, access_key: str, partitions) -> bool:
    for partition in partitions:
        if access_key in account[partition].access_keys:
            return True
    return False


def _account_of_key(iam_models):
    def get_account_id_from(access_key: str) -> str:
        partitions = iam_models.PARTITION_NAMES
        account_id = _KEY_ACCOUNT.get(access_key)
        if account_id is not None:
            account = dict.get(iam_models.iam_backends, account_id)
            if account is not None and _holds(account, access_key, partitions):
                return account_id
        if access_key not in _KEY_MISSING:
            for account_id, account in list(iam_models.iam_backends.items()):
                if _holds(account, access_key, partitions):
                    with _LOCK:
                        _KEY_ACCOUNT[access_key] = account_id
                    return account_id
            with _LOCK:
                _KEY_MISSING.add(access_key)
        return iam_models.DEFAULT_ACCOUNT_ID

    return get_account_id_from


def _remember_created(create):
    def wrapped(self, *args, **kwargs):
        key = create(self, *args, **kwargs)
        with _LOCK:
            _KEY_MISSING.discard(key.physical_resource_id)
            _KEY_ACCOUNT[key.physical_resource_id] = self.account_id
        return key

    return wrapped


def _per_class(names_of):
    kept: dict[type, list[str]] = {}

    def method_names_from_class(clazz) -> list[str]:
        names = kept.get(clazz)
        if names is None:
            names = kept[clazz] = names_of(clazz)
        return names

    return method_names_from_class


def _per_host(find):
    kept: dict = {}

    def get_backend_for_host(self, host):
        if host not in kept:
            kept[host] = find(self, host)
        return kept[host]

    return get_backend_for_host


def install() -> None:
    import moto.core.responses as responses
    import moto.iam.models as iam_models
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    BackendDict._create_account_specific_backend = _create_if_missing(
        BackendDict._create_account_specific_backend)
    iam_models.get_account_id_from = _account_of_key(iam_models)
    iam_models.IAMBackend.create_access_key = _remember_created(iam_models.IAMBackend.create_access_key)
    iam_models.IAMBackend.create_temp_access_key = _remember_created(
        iam_models.IAMBackend.create_temp_access_key)
    responses.method_names_from_class = _per_class(responses.method_names_from_class)
    DomainDispatcherApplication.get_backend_for_host = _per_host(
        DomainDispatcherApplication.get_backend_for_host)
