//! Settings: where the directory is, how to reach it safely, and how its entries are shaped
//! ([`Profile`]).

use std::path::PathBuf;
use std::time::Duration;

use teamsync_core::{Secret, SourceId};

/// How teamsync authenticates to the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Bind {
    /// No credentials (an anonymous simple bind).
    Anonymous,
    /// A DN and a password (LDAP simple bind). Refused over plain `ldap://` unless
    /// [`LdapConfig::allow_plaintext_bind`] is set.
    Simple {
        /// DN to bind as.
        dn: String,
        /// Its password.
        password: Secret,
    },
    /// SASL GSSAPI (Kerberos): no password in the configuration. On Unix the credentials are
    /// MIT Kerberos' defaults: the credential cache (`KRB5CCNAME`, e.g. kept fresh by `kinit
    /// -k` or k5start) or a client keytab (`KRB5_CLIENT_KTNAME`), with `KRB5_CONFIG` naming
    /// the realm's KDCs; on Windows, the account the process runs as (SSPI). Needs the
    /// `gssapi` feature. Needs `ldaps://` or StartTLS: Kerberos authenticates, TLS protects
    /// the session (with the TLS channel binding AD's hardening asks for). Plain `ldap://` is
    /// refused, because ldap3's Kerberos encryption layer loses replies on large reads.
    Gssapi {
        /// The server's host name as the KDC knows it: the ticket is requested for
        /// `ldap/<server_fqdn>`. `None` takes the URL's host, which must then be a name, not
        /// an address.
        server_fqdn: Option<String>,
    },
    /// SASL EXTERNAL: the identity the connection already has, that is the TLS client
    /// certificate ([`LdapConfig::client_certificate`]) on `ldaps://` or StartTLS, or the
    /// process's user on an `ldapi://` socket.
    External,
}

impl Bind {
    /// A simple bind as `dn` with `password`.
    pub fn simple(dn: impl Into<String>, password: Secret) -> Self {
        Self::Simple {
            dn: dn.into(),
            password,
        }
    }

    /// A Kerberos bind; the ticket is for `ldap/<server_fqdn>`, or for `ldap/<the URL's host>`
    /// when `server_fqdn` is `None`.
    pub fn gssapi(server_fqdn: Option<String>) -> Self {
        Self::Gssapi { server_fqdn }
    }

    /// The name of the mechanism, as a configuration spells it.
    pub fn mechanism(&self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Simple { .. } => "simple",
            Self::Gssapi { .. } => "gssapi",
            Self::External => "external",
        }
    }
}

/// A TLS client certificate, presented on `ldaps://` and StartTLS connections (for
/// [`Bind::External`], or for servers that want one besides a simple bind).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientCertificate {
    /// PEM file: the certificate, then any intermediates.
    pub cert_file: PathBuf,
    /// PEM file: its private key (PKCS#8, PKCS#1 or SEC1). A secret: keep it readable by
    /// teamsync's account only.
    pub key_file: PathBuf,
}

impl ClientCertificate {
    /// The certificate chain in `cert_file` and its key in `key_file`.
    pub fn new(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> Self {
        Self {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
        }
    }
}

/// How to reach and read the directory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LdapConfig {
    /// `ldap://host:port`, `ldaps://host:port` (or `ldapi://` for a local socket).
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    pub starttls: bool,
    /// PEM file with the CA certificate(s) to trust for the server's certificate. Without it,
    /// the system's trust store is used.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate. For labs only: logged as a warning on every connection.
    pub no_tls_verify: bool,
    /// A client certificate to present over TLS (needed by [`Bind::External`] on TLS).
    pub client_certificate: Option<ClientCertificate>,
    /// Allow a simple bind with a password over plain `ldap://` without StartTLS, which sends
    /// the password in clear text. Refused unless set.
    pub allow_plaintext_bind: bool,
    /// How to authenticate ([`Bind::Anonymous`] by default).
    pub bind: Bind,
    /// Limit for TCP connect, TLS handshake and StartTLS.
    pub connect_timeout: Duration,
    /// Limit for each operation; for searches, the longest wait for the next entry.
    pub operation_timeout: Duration,
    /// Base DN that users and groups are searched under (AD: the domain root).
    pub base_dn: String,
    /// Where users are searched, when not under `base_dn`.
    pub user_base_dn: Option<String>,
    /// Where groups are searched, when not under `base_dn`.
    pub group_base_dn: Option<String>,
    /// DNs of the group(s) whose transitive user members are in scope.
    pub user_root_dns: Vec<String>,
    /// DNs of the group(s) whose descendant groups are synced (may equal `user_root_dns`).
    pub group_root_dns: Vec<String>,
    /// An extra LDAP filter users must also match, e.g. `(department=Sales)`.
    pub extra_user_filter: Option<String>,
    /// Entry shapes for this kind of server.
    pub profile: Profile,
    /// Ids synced before (from the team's managed external ids). On servers without
    /// tombstones (OpenLDAP, 389-DS) each is looked up by id, and those no longer found under
    /// `base_dn` are reported as deleted.
    pub known_ids: Vec<SourceId>,
    /// Page size for every bulk read (at most 1000, AD's MaxPageSize).
    pub page_size: u16,
}

impl LdapConfig {
    /// Settings with safe defaults: no StartTLS, system trust store, verification on,
    /// plain-text bind refused, 10 s connect and 120 s operation timeouts, pages of 1000.
    pub fn new(url: impl Into<String>, base_dn: impl Into<String>, profile: Profile) -> Self {
        Self {
            url: url.into(),
            starttls: false,
            ca_file: None,
            no_tls_verify: false,
            client_certificate: None,
            allow_plaintext_bind: false,
            bind: Bind::Anonymous,
            connect_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(120),
            base_dn: base_dn.into(),
            user_base_dn: None,
            group_base_dn: None,
            user_root_dns: Vec::new(),
            group_root_dns: Vec::new(),
            extra_user_filter: None,
            profile,
            known_ids: Vec::new(),
            page_size: 1000,
        }
    }

    /// Binds with a DN and password ([`Bind::Simple`]).
    pub fn with_bind(self, dn: impl Into<String>, password: Secret) -> Self {
        self.with_bind_mode(Bind::simple(dn, password))
    }

    /// Sets how to authenticate.
    pub fn with_bind_mode(mut self, bind: Bind) -> Self {
        self.bind = bind;
        self
    }
}

/// The kind of server a [`Profile`] was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// Microsoft Active Directory (and Samba AD).
    ActiveDirectory,
    /// OpenLDAP with the memberof/ppolicy overlays.
    OpenLdap,
    /// FreeIPA or 389 Directory Server.
    FreeIpa,
    /// Anything else: inetOrgPerson users, groupOfNames groups, entryUUID ids.
    Generic,
}

/// How the id attribute's value becomes a [`SourceId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdFormat {
    /// A text value, used as is (trimmed): entryUUID, nsUniqueId, ipaUniqueID.
    Text,
    /// AD `objectGUID`: 16 bytes, formatted as the canonical mixed-endian lower-case GUID.
    AdObjectGuid,
}

/// What a member attribute's values name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    /// Member DNs (`member`, `uniqueMember`; an `#'…'B` uid suffix is ignored).
    Dn,
    /// Bare user names matched against the profile's `uid_attribute` (`memberUid`).
    Uid,
}

/// An attribute of group entries that lists members.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemberAttribute {
    /// Attribute name.
    pub name: String,
    /// What its values name.
    pub kind: MemberKind,
}

impl MemberAttribute {
    /// An attribute of member DNs.
    pub fn dn(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: MemberKind::Dn,
        }
    }

    /// An attribute of bare uids.
    pub fn uid(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: MemberKind::Uid,
        }
    }
}

/// One way a directory says an account may not be used. A user is disabled when any rule of
/// its profile says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisabledRule {
    /// AD `userAccountControl` has bit 0x2 (ACCOUNTDISABLE).
    AdAccountDisabled,
    /// AD `accountExpires` (100 ns ticks since 1601; 0 and 0x7FFF… mean never) is in the past.
    AdAccountExpired,
    /// ppolicy `pwdAccountLockedTime` is set. `000001010000Z` locks for good; a timestamp locks
    /// until `lockout_duration` has passed, or for good when no duration is given.
    PasswordPolicyLocked {
        /// The policy's `pwdLockoutDuration`, when it has one.
        lockout_duration: Option<Duration>,
    },
    /// 389-DS / FreeIPA `nsAccountLock` is anything but `false`.
    NsAccountLock,
    /// `shadowExpire` (days since 1970; -1 means never) is in the past.
    ShadowExpired,
}

/// How deleted entries are detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeletedDetection {
    /// Not at all.
    None,
    /// AD tombstones: a show-deleted search (control 1.2.840.113556.1.4.417) for `isDeleted`
    /// users and groups.
    AdTombstones,
    /// Each of [`LdapConfig::known_ids`] is looked up by id; those not found are deleted.
    /// OpenLDAP keeps no tombstones, so this is the only way it can tell.
    KnownIdLookup,
}

/// Where a kind of server keeps what teamsync reads. Start from a preset and override fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Profile {
    /// The kind of server.
    pub kind: ProfileKind,
    /// Attribute holding the immutable id.
    pub id_attribute: String,
    /// How that attribute becomes a [`SourceId`].
    pub id_format: IdFormat,
    /// Filter selecting user entries.
    pub user_filter: String,
    /// Filter selecting group entries.
    pub group_filter: String,
    /// Attributes of group entries listing members.
    pub member_attributes: Vec<MemberAttribute>,
    /// Attribute of user entries that `memberUid` values name.
    pub uid_attribute: String,
    /// Rules that make a user disabled.
    pub disabled_rules: Vec<DisabledRule>,
    /// Attributes tried in order for the email address.
    pub email_attributes: Vec<String>,
    /// AD `proxyAddresses`: its primary `SMTP:` address is the fallback after `email_attributes`.
    pub proxy_addresses_attribute: Option<String>,
    /// Use `userPrincipalName` as the last email fallback. Off by default: a UPN is a logon
    /// name, not necessarily a mailbox.
    pub upn_as_email: bool,
    /// Attributes tried in order for the first name.
    pub given_name_attributes: Vec<String>,
    /// Attributes tried in order for the last name.
    pub surname_attributes: Vec<String>,
    /// Attributes split into first and last name when both are missing.
    pub full_name_attributes: Vec<String>,
    /// Attributes tried in order for a group's name (the DN's first value is the fallback).
    pub group_name_attributes: Vec<String>,
    /// AD: add users to the group named by their `primaryGroupID` (Domain Users), which AD
    /// never lists in `member`.
    pub primary_group_membership: bool,
    /// How deleted entries are detected.
    pub deleted_detection: DeletedDetection,
    /// Extra user attributes copied into `DirectoryUser::attributes` (first value).
    pub extra_user_attributes: Vec<String>,
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

impl Profile {
    /// Active Directory: `objectGUID`, people only (no computers), `member` with ranged
    /// retrieval, primary group, userAccountControl and accountExpires, `mail` then the primary
    /// `SMTP:` proxy address, tombstones for deletions.
    pub fn active_directory() -> Self {
        Self {
            kind: ProfileKind::ActiveDirectory,
            id_attribute: "objectGUID".into(),
            id_format: IdFormat::AdObjectGuid,
            user_filter: "(&(objectCategory=person)(objectClass=user))".into(),
            group_filter: "(objectClass=group)".into(),
            member_attributes: vec![MemberAttribute::dn("member")],
            uid_attribute: "sAMAccountName".into(),
            disabled_rules: vec![
                DisabledRule::AdAccountDisabled,
                DisabledRule::AdAccountExpired,
            ],
            email_attributes: strings(&["mail"]),
            proxy_addresses_attribute: Some("proxyAddresses".into()),
            upn_as_email: false,
            given_name_attributes: strings(&["givenName"]),
            surname_attributes: strings(&["sn"]),
            full_name_attributes: strings(&["displayName", "cn"]),
            group_name_attributes: strings(&["cn", "name"]),
            primary_group_membership: true,
            deleted_detection: DeletedDetection::AdTombstones,
            extra_user_attributes: strings(&["sAMAccountName"]),
        }
    }

    /// OpenLDAP: `entryUUID`, inetOrgPerson users, groupOfNames / groupOfUniqueNames /
    /// posixGroup groups, ppolicy lockout and shadowExpire.
    pub fn open_ldap() -> Self {
        Self {
            kind: ProfileKind::OpenLdap,
            id_attribute: "entryUUID".into(),
            id_format: IdFormat::Text,
            user_filter: "(|(objectClass=inetOrgPerson)(objectClass=posixAccount))".into(),
            group_filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"
                .into(),
            member_attributes: vec![
                MemberAttribute::dn("member"),
                MemberAttribute::dn("uniqueMember"),
                MemberAttribute::uid("memberUid"),
            ],
            uid_attribute: "uid".into(),
            disabled_rules: vec![
                DisabledRule::PasswordPolicyLocked { lockout_duration: None },
                DisabledRule::ShadowExpired,
            ],
            email_attributes: strings(&["mail"]),
            proxy_addresses_attribute: None,
            upn_as_email: false,
            given_name_attributes: strings(&["givenName"]),
            surname_attributes: strings(&["sn"]),
            full_name_attributes: strings(&["displayName", "cn"]),
            group_name_attributes: strings(&["cn"]),
            primary_group_membership: false,
            deleted_detection: DeletedDetection::KnownIdLookup,
            extra_user_attributes: strings(&["uid"]),
        }
    }

    /// FreeIPA / 389-DS: `ipaUniqueID` (use `nsUniqueId` for plain 389-DS), users under
    /// `cn=users,cn=accounts`, `member` groups, `nsAccountLock`.
    pub fn free_ipa() -> Self {
        Self {
            kind: ProfileKind::FreeIpa,
            id_attribute: "ipaUniqueID".into(),
            id_format: IdFormat::Text,
            user_filter: "(&(objectClass=person)(!(objectClass=mepManagedEntry)))".into(),
            group_filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))".into(),
            member_attributes: vec![
                MemberAttribute::dn("member"),
                MemberAttribute::dn("uniqueMember"),
            ],
            uid_attribute: "uid".into(),
            disabled_rules: vec![
                DisabledRule::NsAccountLock,
                DisabledRule::PasswordPolicyLocked {
                    lockout_duration: None,
                },
            ],
            email_attributes: strings(&["mail"]),
            proxy_addresses_attribute: None,
            upn_as_email: false,
            given_name_attributes: strings(&["givenName"]),
            surname_attributes: strings(&["sn"]),
            full_name_attributes: strings(&["displayName", "cn"]),
            group_name_attributes: strings(&["cn"]),
            primary_group_membership: false,
            deleted_detection: DeletedDetection::KnownIdLookup,
            extra_user_attributes: strings(&["uid"]),
        }
    }

    /// 389-DS without FreeIPA: as [`Profile::free_ipa`] with `nsUniqueId` ids.
    pub fn ds389() -> Self {
        Self {
            id_attribute: "nsUniqueId".into(),
            ..Self::free_ipa()
        }
    }

    /// Any LDAP server: `entryUUID`, inetOrgPerson, groupOfNames / groupOfUniqueNames.
    pub fn generic() -> Self {
        Self {
            kind: ProfileKind::Generic,
            user_filter: "(objectClass=inetOrgPerson)".into(),
            group_filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))".into(),
            member_attributes: vec![
                MemberAttribute::dn("member"),
                MemberAttribute::dn("uniqueMember"),
            ],
            disabled_rules: vec![],
            ..Self::open_ldap()
        }
        .with_kind(ProfileKind::Generic)
    }

    fn with_kind(mut self, kind: ProfileKind) -> Self {
        self.kind = kind;
        self
    }

    /// The preset for a kind of server.
    pub fn for_kind(kind: ProfileKind) -> Self {
        match kind {
            ProfileKind::ActiveDirectory => Self::active_directory(),
            ProfileKind::OpenLdap => Self::open_ldap(),
            ProfileKind::FreeIpa => Self::free_ipa(),
            ProfileKind::Generic => Self::generic(),
        }
    }

    /// Attributes to request for user entries.
    pub fn user_attributes(&self) -> Vec<String> {
        let mut attrs = vec![self.id_attribute.clone(), self.uid_attribute.clone()];
        attrs.extend(self.email_attributes.iter().cloned());
        attrs.extend(self.proxy_addresses_attribute.iter().cloned());
        if self.upn_as_email {
            attrs.push("userPrincipalName".into());
        }
        attrs.extend(self.given_name_attributes.iter().cloned());
        attrs.extend(self.surname_attributes.iter().cloned());
        attrs.extend(self.full_name_attributes.iter().cloned());
        attrs.extend(self.extra_user_attributes.iter().cloned());
        for rule in &self.disabled_rules {
            attrs.push(
                match rule {
                    DisabledRule::AdAccountDisabled => "userAccountControl",
                    DisabledRule::AdAccountExpired => "accountExpires",
                    DisabledRule::PasswordPolicyLocked { .. } => "pwdAccountLockedTime",
                    DisabledRule::NsAccountLock => "nsAccountLock",
                    DisabledRule::ShadowExpired => "shadowExpire",
                }
                .into(),
            );
        }
        if self.primary_group_membership {
            attrs.push("primaryGroupID".into());
            attrs.push("objectSid".into());
        }
        dedup_case_insensitive(attrs)
    }

    /// Attributes to request for group entries.
    pub fn group_attributes(&self) -> Vec<String> {
        let mut attrs = vec![self.id_attribute.clone()];
        attrs.extend(self.group_name_attributes.iter().cloned());
        attrs.extend(self.member_attributes.iter().map(|m| m.name.clone()));
        if self.primary_group_membership {
            attrs.push("objectSid".into());
        }
        dedup_case_insensitive(attrs)
    }
}

fn dedup_case_insensitive(names: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(n.to_ascii_lowercase()))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn password_is_redacted() {
        let pw = Secret::new("hunter2");
        assert_eq!(format!("{pw:?}"), "[redacted]");
        assert_eq!(format!("{pw}"), "[redacted]");
        let cfg = LdapConfig::new("ldap://x", "dc=x", Profile::generic()).with_bind("cn=a", pw);
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }

    #[test]
    fn presets_request_what_they_read() {
        let ad = Profile::active_directory();
        let attrs = ad.user_attributes();
        for a in [
            "objectGUID",
            "mail",
            "proxyAddresses",
            "userAccountControl",
            "accountExpires",
            "primaryGroupID",
        ] {
            assert!(attrs.iter().any(|x| x == a), "{a} missing from {attrs:?}");
        }
        assert!(!attrs.iter().any(|x| x == "userPrincipalName"));
        let ol = Profile::open_ldap();
        assert!(
            ol.user_attributes()
                .iter()
                .any(|x| x == "pwdAccountLockedTime")
        );
        assert!(ol.group_attributes().iter().any(|x| x == "memberUid"));
        assert_eq!(Profile::generic().kind, ProfileKind::Generic);
        assert_eq!(Profile::ds389().id_attribute, "nsUniqueId");
    }
}
