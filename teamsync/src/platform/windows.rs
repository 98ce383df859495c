//! The Windows half: the file's security descriptor through the `windows-permissions` crate's
//! safe wrappers of GetNamedSecurityInfoW, ConvertSecurityDescriptorToStringSecurityDescriptorW,
//! LookupAccountSidW and SetNamedSecurityInfoW. What the ACL means is decided in `sddl`.

use std::path::Path;

use windows_permissions::constants::{SeObjectType, SecurityInformation};
use windows_permissions::{LocalBox, SecurityDescriptor, Sid, wrappers};

use super::sddl;

/// The file's owner and DACL as SDDL.
fn owner_and_dacl(path: &Path) -> std::io::Result<String> {
    let descriptor = wrappers::GetNamedSecurityInfo(
        path.as_os_str(),
        SeObjectType::SE_FILE_OBJECT,
        SecurityInformation::Owner | SecurityInformation::Dacl,
    )?;
    let text = wrappers::ConvertSecurityDescriptorToStringSecurityDescriptor(
        &descriptor,
        SecurityInformation::Owner | SecurityInformation::Dacl,
    )?;
    Ok(text.to_string_lossy().into_owned())
}

/// `DOMAIN\name` of a trustee from [`sddl::extra_readers`], else its SID.
fn display_name(trustee: &str) -> String {
    if let Some(name) = sddl::well_known_name(trustee) {
        return name.to_owned();
    }
    let looked_up = trustee
        .parse::<LocalBox<Sid>>()
        .ok()
        .and_then(|sid| wrappers::LookupAccountSid(&sid).ok());
    match looked_up {
        Some((name, domain)) if !domain.is_empty() => {
            format!("{}\\{}", domain.to_string_lossy(), name.to_string_lossy())
        }
        Some((name, _)) => name.to_string_lossy().into_owned(),
        None => trustee.to_owned(),
    }
}

/// The SID of the account this process acts as: the owner Windows gives a file it creates
/// (the token's default owner: the user, the service account, or Administrators when
/// elevated). Found by creating one in the temp folder, so that no token API is needed.
fn own_sid() -> Option<String> {
    let probe = std::env::temp_dir().join(format!("teamsync-owner-probe-{}", std::process::id()));
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe);
    let sddl = created.ok().and_then(|_| owner_and_dacl(&probe).ok());
    let _ = std::fs::remove_file(&probe);
    sddl::owner(&sddl?)
}

pub fn readable_by_others_warning(path: &Path, what: &str) -> Option<String> {
    // Not there or not ours to examine: reading it fails next, with its own message.
    let text = owner_and_dacl(path).ok()?;
    let me: Vec<String> = own_sid().into_iter().collect();
    let shown = path.display();
    let fix = format!(
        "leave only the owner, SYSTEM and Administrators: icacls \"{shown}\" /inheritance:r /grant:r \"%USERNAME%:F\" *S-1-5-18:F *S-1-5-32-544:F"
    );
    let readers = match sddl::extra_readers(&text, &me) {
        Ok(readers) => readers,
        Err(problem) => {
            return Some(format!(
                "warning: cannot tell who can read {what} {shown} (its ACL {}: {problem}); {fix}",
                teamsync_core::text::quoted(&text)
            ));
        }
    };
    if readers.is_empty() {
        return None;
    }
    let who = if readers.iter().any(|r| sddl::is_everybody(r)) {
        "every user"
    } else {
        "other users"
    };
    let names: Vec<String> = readers.iter().map(|r| display_name(r)).collect();
    Some(format!(
        "warning: {what} {shown} is readable by {who} (its ACL lets {} read it); {fix}",
        names.join(", ")
    ))
}

/// Applies `sddl_dacl` (e.g. `D:P(A;;FA;;;SY)`) as the file's DACL.
fn set_dacl(path: &Path, sddl_dacl: &str) -> std::io::Result<()> {
    let descriptor: LocalBox<SecurityDescriptor> = sddl_dacl.parse()?;
    let dacl = descriptor
        .dacl()
        .ok_or_else(|| std::io::Error::other("the DACL text holds no DACL"))?;
    let mut info = SecurityInformation::Dacl;
    if sddl_dacl.starts_with("D:P") {
        info |= SecurityInformation::ProtectedDacl;
    }
    wrappers::SetNamedSecurityInfo(
        path.as_os_str(),
        SeObjectType::SE_FILE_OBJECT,
        info,
        None,
        None,
        Some(dacl),
        None,
    )
}

/// Full control for the owner (OWNER RIGHTS), SYSTEM and Administrators; nothing inherited.
pub fn make_private(path: &Path) -> std::io::Result<()> {
    set_dacl(path, "D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)")
}

/// For tests: the private ACL plus read for Everyone.
#[cfg(test)]
pub fn grant_everyone_read(path: &Path) -> std::io::Result<()> {
    set_dacl(path, "D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;WD)")
}
