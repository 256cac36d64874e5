# A notification callback for ansible-playbook, used by spec/helpers/twins.lua:
# one JSON line per host and task result (also loop items' final results
# and handlers) into the file named by LUASIBLE_ORACLE_LOG, so that a spec
# compares what Ansible did task by task with luasible's event log.
# Enabled with ANSIBLE_CALLBACKS_ENABLED=luasible_oracle and
# ANSIBLE_CALLBACK_PLUGINS=<this folder>. Spec tooling, not shipped.
import json
import os

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'luasible_oracle'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._out = open(os.environ['LUASIBLE_ORACLE_LOG'], 'a')

    def _write(self, result, status):
        res = dict(result._result)
        for k in ('invocation', '_ansible_no_log', '_ansible_verbose_always',
                  '_ansible_verbose_override'):
            res.pop(k, None)
        changed = bool(res.get('changed', False))
        if status == 'ok' and changed:
            status = 'changed'
        line = {
            'task': result._task.get_name(),
            'host': result._host.get_name(),
            'status': status,
            'changed': changed,
            'result': res,
        }
        self._out.write(json.dumps(line, cls=AnsibleJSONEncoder, sort_keys=True) + '\n')
        self._out.flush()

    def v2_runner_on_ok(self, result):
        self._write(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._write(result, 'unreachable')
