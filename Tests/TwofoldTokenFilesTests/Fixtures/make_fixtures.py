#!/usr/bin/env python3
"""Writes the encrypted and hostile PSKC fixtures of TwofoldTokenFilesTests.

Run from anywhere with `python3 make_fixtures.py` (needs `pip install cryptography`). Every IV,
key and salt is fixed, so the output is the same each run and the files can be committed; the
tests hold the same constants. The RFC 6030 figures (rfc6030-figure*.pskcxml) are not made here.

    psk-aes128.pskcxml          AES-128-CBC under a pre-shared key, HMAC-SHA1 value MACs,
                                an HOTP and a TOTP key, unusual namespace prefixes
    psk-aes256-sha256.pskcxml   AES-256-CBC, HMAC-SHA256 MACs, an encrypted counter
    password-pbkdf2.pskcxml     a key derived with PBKDF2-HMAC-SHA256 from a password
    tampered-mac.pskcxml        psk-aes128 with one bit of the second key's ValueMAC flipped
    bad-padding.pskcxml         a valid MAC over a ciphertext whose padding is not PKCS #7
    missing-mac.pskcxml         an AES-CBC secret without a ValueMAC
    ocra.pskcxml                an OCRA key (challenge-response)
    duplicate-serials.pskcxml   two keys on one device serial
    malformed.pskcxml           XML cut off in the middle
    entity-bomb.pskcxml         "billion laughs": nested internal entities
    external-entity.pskcxml     an external entity naming /etc/passwd (XXE)
"""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

HERE = os.path.dirname(os.path.abspath(__file__))

PSKC = "urn:ietf:params:xml:ns:keyprov:pskc"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
PKCS5 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"
HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
HMAC_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
AES128 = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
AES256 = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"

# The constants the tests repeat.
PSK128 = bytes(range(0x00, 0x10))
PSK256 = bytes(range(0x20, 0x40))
MAC_KEY = bytes(range(0xA0, 0xB4))
MAC_KEY_256 = bytes(range(0xC0, 0xE0))
HOTP_SECRET = bytes.fromhex("3f5a0c7e19b24d8801c6e3a95b7d20f4c8e1a3b6")
TOTP_SECRET = bytes.fromhex("9b1e47c2d0a3f85e6c14b7290ad3e58f1c6b2a47e09d3f8c5b7a1e2d4c6f8a0b")
HOTP256_SECRET = bytes.fromhex(
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff00f1e2d3c4b5a69788796a5b4c3d2e1f0"
    "0112233445566778899aabbccddeeff0")
PASSWORD = "Twofold import 2024"
SALT = bytes.fromhex("5e1f2a3b4c5d6e7f8091a2b3c4d5e6f7")
ITERATIONS = 2000
PBKDF2_SECRET = bytes.fromhex("7c2e9a41b3d05f68e1c7a24b93d60e1f58a2c7b4")


def b64(data):
    return base64.b64encode(data).decode()


def iv(n):
    """A fixed IV per value, so that the files are reproducible."""
    return hashlib.sha256(b"twofold fixture iv %d" % n).digest()[:16]


def cbc(key, plaintext, n, pad=True):
    if pad:
        padder = padding.PKCS7(128).padder()
        plaintext = padder.update(plaintext) + padder.finalize()
    vector = iv(n)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(vector)).encryptor()
    return vector + encryptor.update(plaintext) + encryptor.finalize()


def mac(key, data, digest=hashlib.sha1):
    return hmac.new(key, data, digest).digest()


def write(name, text):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as file:
        file.write(text)


def encrypted(prefix_enc, method, value, value_mac, p):
    return f"""<{p}EncryptedValue>
            <{prefix_enc}EncryptionMethod Algorithm="{method}"/>
            <{prefix_enc}CipherData><{prefix_enc}CipherValue>{b64(value)}</{prefix_enc}CipherValue></{prefix_enc}CipherData>
          </{p}EncryptedValue>
          <{p}ValueMAC>{b64(value_mac)}</{p}ValueMAC>"""


def psk_aes128(tamper=False):
    # Namespaces bound to unusual prefixes: a reader must go by URI.
    mac_key_value = cbc(PSK128, MAC_KEY, 1)
    hotp_value = cbc(PSK128, HOTP_SECRET, 2)
    totp_value = cbc(PSK128, TOTP_SECRET, 3)
    totp_mac = bytearray(mac(MAC_KEY, totp_value))
    if tamper:
        totp_mac[7] ^= 0x01
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Made by make_fixtures.py: AES-128-CBC under the pre-shared key 000102…0f, HMAC-SHA1 MACs. -->
<k:KeyContainer Version="1.0" xmlns:k="{PSKC}" xmlns:enc="{XENC}" xmlns:sig="{DSIG}">
  <k:EncryptionKey><sig:KeyName>Twofold fixture PSK</sig:KeyName></k:EncryptionKey>
  <k:MACMethod Algorithm="{HMAC_SHA1}">
    <k:MACKey>
      <enc:EncryptionMethod Algorithm="{AES128}"/>
      <enc:CipherData><enc:CipherValue>{b64(mac_key_value)}</enc:CipherValue></enc:CipherData>
    </k:MACKey>
  </k:MACMethod>
  <k:KeyPackage>
    <k:DeviceInfo><k:Manufacturer>Twofold Test</k:Manufacturer><k:SerialNo>TF-HOTP-0001</k:SerialNo></k:DeviceInfo>
    <k:Key Id="hotp-1" Algorithm="{HOTP}">
      <k:AlgorithmParameters><k:ResponseFormat Length="6" Encoding="DECIMAL"/></k:AlgorithmParameters>
      <k:Data>
        <k:Secret>
          {encrypted("enc:", AES128, hotp_value, mac(MAC_KEY, hotp_value), "k:")}
        </k:Secret>
        <k:Counter><k:PlainValue>42</k:PlainValue></k:Counter>
      </k:Data>
    </k:Key>
  </k:KeyPackage>
  <k:KeyPackage>
    <k:DeviceInfo><k:Manufacturer>Twofold Test</k:Manufacturer><k:SerialNo>TF-TOTP-0002</k:SerialNo></k:DeviceInfo>
    <k:Key Id="totp-2" Algorithm="{TOTP}">
      <k:AlgorithmParameters>
        <k:Suite>HMAC-SHA256</k:Suite>
        <k:ResponseFormat Length="8" Encoding="DECIMAL"/>
      </k:AlgorithmParameters>
      <k:Data>
        <k:Secret>
          {encrypted("enc:", AES128, totp_value, bytes(totp_mac), "k:")}
        </k:Secret>
        <k:TimeInterval><k:PlainValue>60</k:PlainValue></k:TimeInterval>
      </k:Data>
    </k:Key>
  </k:KeyPackage>
</k:KeyContainer>
"""


def psk_aes256_sha256():
    mac_key_value = cbc(PSK256, MAC_KEY_256, 11)
    secret_value = cbc(PSK256, HOTP256_SECRET, 12)
    counter_value = cbc(PSK256, (1000).to_bytes(8, "big"), 13)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Made by make_fixtures.py: AES-256-CBC under the pre-shared key 202122…3f, HMAC-SHA256 MACs,
     the counter encrypted too (8 bytes, big-endian). -->
<KeyContainer Version="1.0" xmlns="{PSKC}" xmlns:xenc="{XENC}" xmlns:ds="{DSIG}">
  <EncryptionKey><ds:KeyName>Twofold fixture PSK 256</ds:KeyName></EncryptionKey>
  <MACMethod Algorithm="{HMAC_SHA256}">
    <MACKey>
      <xenc:EncryptionMethod Algorithm="{AES256}"/>
      <xenc:CipherData><xenc:CipherValue>{b64(mac_key_value)}</xenc:CipherValue></xenc:CipherData>
    </MACKey>
  </MACMethod>
  <KeyPackage>
    <DeviceInfo><SerialNo>TF-HOTP-0256</SerialNo></DeviceInfo>
    <Key Id="hotp-256" Algorithm="http://www.ietf.org/keyprov/pskc#hotp">
      <AlgorithmParameters>
        <Suite>HMAC-SHA512</Suite>
        <ResponseFormat Length="7" Encoding="DECIMAL"/>
      </AlgorithmParameters>
      <Data>
        <Secret>
          {encrypted("xenc:", AES256, secret_value, mac(MAC_KEY_256, secret_value, hashlib.sha256), "")}
        </Secret>
        <Counter>
          {encrypted("xenc:", AES256, counter_value, mac(MAC_KEY_256, counter_value, hashlib.sha256), "")}
        </Counter>
      </Data>
    </Key>
  </KeyPackage>
</KeyContainer>
"""


def password_pbkdf2():
    key = PBKDF2HMAC(hashes.SHA256(), 16, SALT, ITERATIONS).derive(PASSWORD.encode())
    mac_key_value = cbc(key, MAC_KEY, 21)
    secret_value = cbc(key, PBKDF2_SECRET, 22)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Made by make_fixtures.py: AES-128-CBC under a key derived with PBKDF2-HMAC-SHA256 (2000
     rounds) from the password "{PASSWORD}"; HMAC-SHA1 MACs. -->
<pskc:KeyContainer Version="1.0" xmlns:pskc="{PSKC}" xmlns:xenc="{XENC}" xmlns:xenc11="{XENC11}"
    xmlns:pkcs5="{PKCS5}">
  <pskc:EncryptionKey>
    <xenc11:DerivedKey>
      <xenc11:KeyDerivationMethod Algorithm="{PKCS5}pbkdf2">
        <pkcs5:PBKDF2-params>
          <pkcs5:Salt><pkcs5:Specified>{b64(SALT)}</pkcs5:Specified></pkcs5:Salt>
          <pkcs5:IterationCount>{ITERATIONS}</pkcs5:IterationCount>
          <pkcs5:KeyLength>16</pkcs5:KeyLength>
          <pkcs5:PRF Algorithm="{HMAC_SHA256}"/>
        </pkcs5:PBKDF2-params>
      </xenc11:KeyDerivationMethod>
      <xenc11:MasterKeyName>Twofold fixture password</xenc11:MasterKeyName>
    </xenc11:DerivedKey>
  </pskc:EncryptionKey>
  <pskc:MACMethod Algorithm="{HMAC_SHA1}">
    <pskc:MACKey>
      <xenc:EncryptionMethod Algorithm="{AES128}"/>
      <xenc:CipherData><xenc:CipherValue>{b64(mac_key_value)}</xenc:CipherValue></xenc:CipherData>
    </pskc:MACKey>
  </pskc:MACMethod>
  <pskc:KeyPackage>
    <pskc:DeviceInfo><pskc:Manufacturer>Twofold Test</pskc:Manufacturer><pskc:SerialNo>TF-PBKDF2-0003</pskc:SerialNo></pskc:DeviceInfo>
    <pskc:Key Id="totp-3" Algorithm="{TOTP}">
      <pskc:AlgorithmParameters><pskc:ResponseFormat Length="6" Encoding="DECIMAL"/></pskc:AlgorithmParameters>
      <pskc:Data>
        <pskc:Secret>
          {encrypted("xenc:", AES128, secret_value, mac(MAC_KEY, secret_value), "pskc:")}
        </pskc:Secret>
      </pskc:Data>
    </pskc:Key>
  </pskc:KeyPackage>
</pskc:KeyContainer>
"""


def single_key_container(secret_xml, mac_method=True, algorithm=HOTP, extra="", key_id="1", serial="TF-0001"):
    mac_key_value = cbc(PSK128, MAC_KEY, 31)
    method = f"""
  <MACMethod Algorithm="{HMAC_SHA1}">
    <MACKey>
      <xenc:EncryptionMethod Algorithm="{AES128}"/>
      <xenc:CipherData><xenc:CipherValue>{b64(mac_key_value)}</xenc:CipherValue></xenc:CipherData>
    </MACKey>
  </MACMethod>""" if mac_method else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="{PSKC}" xmlns:xenc="{XENC}" xmlns:ds="{DSIG}">
  <EncryptionKey><ds:KeyName>Twofold fixture PSK</ds:KeyName></EncryptionKey>{method}
  <KeyPackage>
    <DeviceInfo><SerialNo>{serial}</SerialNo></DeviceInfo>
    <Key Id="{key_id}" Algorithm="{algorithm}">{extra}
      <Data>
        <Secret>
          {secret_xml}
        </Secret>
      </Data>
    </Key>
  </KeyPackage>
</KeyContainer>
"""


def bad_padding():
    # 20 secret bytes and 12 zero bytes: encrypted without padding, so the last byte is 0,
    # which PKCS #7 never produces. The MAC over the ciphertext is right.
    value = cbc(PSK128, HOTP_SECRET + bytes(12), 32, pad=False)
    body = encrypted("xenc:", AES128, value, mac(MAC_KEY, value), "")
    text = single_key_container(body, key_id="bad-padding")
    return text.replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Made by make_fixtures.py: a valid MAC over "
                        "a ciphertext whose padding is not PKCS #7. -->\n")


def missing_mac():
    value = cbc(PSK128, HOTP_SECRET, 33)
    body = f"""<EncryptedValue>
            <xenc:EncryptionMethod Algorithm="{AES128}"/>
            <xenc:CipherData><xenc:CipherValue>{b64(value)}</xenc:CipherValue></xenc:CipherData>
          </EncryptedValue>"""
    return single_key_container(body, mac_method=False, key_id="no-mac")


def plain_container(packages):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Made by make_fixtures.py. -->
<KeyContainer Version="1.0" xmlns="{PSKC}">{packages}
</KeyContainer>
"""


def plain_package(serial, key_id, algorithm=HOTP, parameters="", secret=HOTP_SECRET):
    return f"""
  <KeyPackage>
    <DeviceInfo><SerialNo>{serial}</SerialNo></DeviceInfo>
    <Key Id="{key_id}" Algorithm="{algorithm}">{parameters}
      <Data><Secret><PlainValue>{b64(secret)}</PlainValue></Secret></Data>
    </Key>
  </KeyPackage>"""


def ocra():
    parameters = """
      <AlgorithmParameters>
        <Suite>OCRA-1:HOTP-SHA1-6:QN08</Suite>
        <ChallengeFormat Encoding="DECIMAL" Min="8" Max="8"/>
        <ResponseFormat Length="6" Encoding="DECIMAL"/>
      </AlgorithmParameters>"""
    return plain_container(
        plain_package("TF-HOTP-0001", "hotp-ok")
        + plain_package("TF-OCRA-0002", "ocra-key-7", "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-6:QN08", parameters))


def duplicate_serials():
    return plain_container(plain_package("TF-DUP-0001", "first") + plain_package("TF-DUP-0001", "second", secret=TOTP_SECRET))


def malformed():
    text = plain_container(plain_package("TF-0001", "cut"))
    return text[: text.index("</Secret>") + 4]


def entity_bomb():
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 if n > 1 else "")) * 10}">' for n in range(1, 10)]
    declaration = "<!DOCTYPE KeyContainer [\n  " + "\n  ".join(entities) + "\n]>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{declaration}
<KeyContainer Version="1.0" xmlns="{PSKC}">
  <KeyPackage>
    <DeviceInfo><Manufacturer>&lol9;</Manufacturer><SerialNo>TF-0001</SerialNo></DeviceInfo>
    <Key Id="1" Algorithm="{HOTP}"><Data><Secret><PlainValue>{b64(HOTP_SECRET)}</PlainValue></Secret></Data></Key>
  </KeyPackage>
</KeyContainer>
"""


def external_entity():
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE KeyContainer [ <!ENTITY serial SYSTEM "file:///etc/passwd"> ]>
<KeyContainer Version="1.0" xmlns="{PSKC}">
  <KeyPackage>
    <DeviceInfo><SerialNo>&serial;</SerialNo></DeviceInfo>
    <Key Id="1" Algorithm="{HOTP}"><Data><Secret><PlainValue>{b64(HOTP_SECRET)}</PlainValue></Secret></Data></Key>
  </KeyPackage>
</KeyContainer>
"""


write("psk-aes128.pskcxml", psk_aes128())
write("psk-aes256-sha256.pskcxml", psk_aes256_sha256())
write("password-pbkdf2.pskcxml", password_pbkdf2())
write("tampered-mac.pskcxml", psk_aes128(tamper=True))
write("bad-padding.pskcxml", bad_padding())
write("missing-mac.pskcxml", missing_mac())
write("ocra.pskcxml", ocra())
write("duplicate-serials.pskcxml", duplicate_serials())
write("malformed.pskcxml", malformed())
write("entity-bomb.pskcxml", entity_bomb())
write("external-entity.pskcxml", external_entity())
