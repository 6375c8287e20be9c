#!/usr/bin/python3
# A district's mail submission server for the namespace lab, on Debian's aiosmtpd: STARTTLS
# required before anything else, then authentication required before a mail is taken (a mail
# arriving proves both happened); mails go to a maildir. Each successful or refused login is
# written to the log file, one line each ("ok USER" / "refused USER").
#
#   smtp-submission.py HOST PORT CERT KEY USER PASSWORD MAILDIR LOG
#
# Runs until it is killed.

import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    host, port, cert, key, user, password, maildir, log = sys.argv[1:9]
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        who = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else "?"
        with open(log, "a") as f:
            f.write(("ok " if ok else "refused ") + who + "\n")
        return AuthResult(success=ok)

    controller = Controller(
        Mailbox(maildir),
        hostname=host,
        port=int(port),
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )
    controller.start()
    print(f"listening on {host}:{port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


main()
