//! Signature algorithms and keys.
//!
//! - `Ed25519` (RFC 8032, ed25519-dalek): 32-byte keys, 64-byte signatures, verified
//!   strictly (no malleable signatures, no small-order keys).
//! - `SM2-SM3` (GB/T 32918 with the SM3 hash, RustCrypto `sm2`): the signer's identity is the
//!   standard's default `1234567812345678`; public keys as uncompressed SEC1 points, signatures
//!   as r‖s, 64 bytes. The `sm2` crate says it has not been independently audited.
//!
//! A private key lives only in [`KeyPair`], whose `Debug` does not show it, and in the
//! database column it is stored in. Nothing serves or logs it.

use std::fmt;

use rand::RngCore;

/// The SM2 distinguishing identifier of the signer: GB/T 32918's default.
const SM2_DISTID: &str = "1234567812345678";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Algorithm {
    #[serde(rename = "Ed25519")]
    Ed25519,
    #[serde(rename = "SM2-SM3")]
    Sm2,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::Sm2 => "SM2-SM3",
        }
    }

    pub fn parse(s: &str) -> Option<Algorithm> {
        match s {
            "Ed25519" | "ed25519" => Some(Algorithm::Ed25519),
            "SM2-SM3" | "sm2" | "SM2" | "sm2-sm3" => Some(Algorithm::Sm2),
            _ => None,
        }
    }

    /// Short prefix of the key ids of this algorithm.
    fn kid_prefix(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed",
            Algorithm::Sm2 => "sm2",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key bytes are not a key of {0}")]
    BadKey(Algorithm),
}

/// A public key: what verification needs.
#[derive(Clone)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({}, {})",
            self.algorithm(),
            hex::encode(self.to_bytes())
        )
    }
}

impl PublicKey {
    pub fn from_bytes(alg: Algorithm, bytes: &[u8]) -> Result<PublicKey, KeyError> {
        match alg {
            Algorithm::Ed25519 => {
                let b: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::BadKey(alg))?;
                ed25519_dalek::VerifyingKey::from_bytes(b)
                    .map(PublicKey::Ed25519)
                    .map_err(|_| KeyError::BadKey(alg))
            }
            Algorithm::Sm2 => sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, bytes)
                .map(|k| PublicKey::Sm2(Box::new(k)))
                .map_err(|_| KeyError::BadKey(alg)),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::Sm2(_) => Algorithm::Sm2,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            PublicKey::Ed25519(k) => k.to_bytes().to_vec(),
            PublicKey::Sm2(k) => k.to_sec1_bytes().to_vec(),
        }
    }

    /// Whether `signature` is this key's signature of exactly `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(k) => {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                    return false;
                };
                k.verify_strict(message, &sig).is_ok()
            }
            PublicKey::Sm2(k) => {
                use sm2::dsa::signature::Verifier;
                let Ok(sig) = sm2::dsa::Signature::from_slice(signature) else {
                    return false;
                };
                k.verify(message, &sig).is_ok()
            }
        }
    }
}

/// A signing key with its id. Its `Debug` shows the id and algorithm only.
#[derive(Clone)]
pub struct KeyPair {
    pub kid: String,
    secret: Secret,
}

#[derive(Clone)]
enum Secret {
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Sm2(Box<sm2::dsa::SigningKey>),
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair({}, {})", self.kid, self.algorithm())
    }
}

impl KeyPair {
    /// A fresh key from the operating system's randomness, with a fresh id.
    pub fn generate(alg: Algorithm) -> KeyPair {
        let mut rng = rand::rng();
        let mut tag = [0u8; 6];
        rng.fill_bytes(&mut tag);
        let kid = format!("{}-{}", alg.kid_prefix(), hex::encode(tag));
        loop {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            // An SM2 scalar must be below the group order and not zero; retry the rare miss.
            if let Ok(k) = KeyPair::from_secret(alg, kid.clone(), &bytes) {
                return k;
            }
        }
    }

    pub fn from_secret(alg: Algorithm, kid: String, bytes: &[u8]) -> Result<KeyPair, KeyError> {
        let secret = match alg {
            Algorithm::Ed25519 => {
                let b: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::BadKey(alg))?;
                Secret::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(b)))
            }
            Algorithm::Sm2 => Secret::Sm2(Box::new(
                sm2::dsa::SigningKey::from_slice(SM2_DISTID, bytes)
                    .map_err(|_| KeyError::BadKey(alg))?,
            )),
        };
        Ok(KeyPair { kid, secret })
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.secret {
            Secret::Ed25519(_) => Algorithm::Ed25519,
            Secret::Sm2(_) => Algorithm::Sm2,
        }
    }

    /// The private key's bytes, for storing it; nothing else should call this.
    pub fn secret_bytes(&self) -> Vec<u8> {
        match &self.secret {
            Secret::Ed25519(k) => k.to_bytes().to_vec(),
            Secret::Sm2(k) => k.to_bytes().to_vec(),
        }
    }

    pub fn public(&self) -> PublicKey {
        match &self.secret {
            Secret::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            Secret::Sm2(k) => PublicKey::Sm2(Box::new(k.verifying_key().clone())),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.secret {
            Secret::Ed25519(k) => {
                use ed25519_dalek::Signer;
                k.sign(message).to_bytes().to_vec()
            }
            Secret::Sm2(k) => {
                use sm2::dsa::signature::Signer;
                let sig: sm2::dsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_algorithms_sign_and_verify() {
        for alg in [Algorithm::Ed25519, Algorithm::Sm2] {
            let k = KeyPair::generate(alg);
            let msg = "{\"id\":\"x\",\"n\":\"张三\"}".as_bytes();
            let sig = k.sign(msg);
            assert_eq!(sig.len(), 64, "{alg}");
            let public = PublicKey::from_bytes(alg, &k.public().to_bytes()).unwrap();
            assert!(public.verify(msg, &sig), "{alg}");
            assert!(!public.verify(b"{\"id\":\"y\"}", &sig), "{alg}");
            let mut bad = sig.clone();
            bad[10] ^= 1;
            assert!(!public.verify(msg, &bad), "{alg}");
            assert!(!public.verify(msg, &sig[..63]), "{alg}");
            let other = KeyPair::generate(alg);
            assert!(!other.public().verify(msg, &sig), "{alg}");
            let again = KeyPair::from_secret(alg, k.kid.clone(), &k.secret_bytes()).unwrap();
            assert!(public.verify(msg, &again.sign(msg)), "{alg}");
            assert!(!format!("{k:?}").contains(&hex::encode(k.secret_bytes())));
            assert!(k.kid.starts_with(alg.kid_prefix()));
        }
    }

    #[test]
    fn ed25519_matches_rfc_8032_test_1() {
        let secret =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        let k = KeyPair::from_secret(Algorithm::Ed25519, "t".into(), &secret).unwrap();
        assert_eq!(
            hex::encode(k.public().to_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(k.sign(b"")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }
}
