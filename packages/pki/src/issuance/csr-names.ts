import { PkiError } from '../errors.js'
import { x509 } from '../x509.js'

/** The names a CSR asks for: its URI SANs and DNS SANs. */
export interface CsrNames {
  uris: string[]
  dnsNames: string[]
}

/** Reads the names a PEM or DER CSR asks for, without judging them; `ERR_CSR_MALFORMED` if it is not a CSR. */
export function csrNames(csr: string | Uint8Array): CsrNames {
  let request: x509.Pkcs10CertificateRequest
  try {
    request = new x509.Pkcs10CertificateRequest(typeof csr === 'string' ? csr : Buffer.from(csr))
  } catch (err) {
    throw new PkiError('ERR_CSR_MALFORMED', 'not a PKCS#10 certificate request (PEM or DER)', { cause: err })
  }
  const names = request.getExtensions('2.5.29.17').flatMap((extension) => (extension instanceof x509.SubjectAlternativeNameExtension ? extension.names.items : []))
  return {
    uris: names.filter((name) => name.type === 'url').map((name) => name.value),
    dnsNames: names.filter((name) => name.type === 'dns').map((name) => name.value),
  }
}
