"""The secret set and the non-secret corpus redaction is measured against.

Each secret has the real shape of its kind (prefix, alphabet, length: the detect-secrets and
gitleaks rule sets) but is generated here from a fixed seed, so nothing below is a live key.
Each case is a line as it shows up in a log, a ticket or a script, with the pieces that must
disappear. The non-secret corpus is text that must come out unchanged: gallery URLs, module
names, versions, GUIDs, hashes labelled as hashes, FQIDs, paths under Program Files.
"""

from __future__ import annotations

import random
import string

_RNG = random.Random(15)
LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
BASE32 = LOWER + "234567"
B64 = ALNUM + "+/"


def fake(alphabet: str, n: int) -> str:
    """A deterministic random string of n characters from the alphabet."""
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def base32_pat() -> str:
    """An Azure DevOps PAT: 52 lower-case base32 characters with at least one digit."""
    while True:
        pat = fake(BASE32, 52)
        if any(c.isdigit() for c in pat):
            return pat


NUGET = "oy2" + fake(LOWER + string.digits, 43)
GHP = "ghp_" + fake(ALNUM, 36)
GHO = "gho_" + fake(ALNUM, 36)
GHS = "ghs_" + fake(ALNUM, 36)
GHU = "ghu_" + fake(ALNUM, 36)
GH_FINE = "github_pat_" + fake(ALNUM, 22) + "_" + fake(ALNUM, 59)
ADO = base32_pat()
ADO_84 = fake(ALNUM, 76) + "AZDO" + fake(ALNUM, 4)
JWT = "eyJhbGciOiJSUzI1NiJ9." + "eyJ" + fake(ALNUM, 40) + "." + fake(ALNUM + "-_", 43)
SAS_SIG = fake(ALNUM, 30) + "%3D"
AWS_ID = "AKIA" + fake(UPPER + "234567", 16)
AWS_SECRET = fake(B64, 40)
SLACK_BOT = (
    "xoxb-" + fake(string.digits, 12) + "-" + fake(string.digits, 13) + "-" + fake(ALNUM, 24)
)
SLACK_USER = "xoxp-" + "-".join(fake(string.digits, 12) for _ in range(3)) + "-" + fake(HEX, 32)
SLACK_HOOK = "T" + fake(UPPER, 8) + "/B" + fake(UPPER, 8) + "/" + fake(ALNUM, 24)
GOOGLE = "AIza" + fake(ALNUM + "-_", 35)
STRIPE = "sk_live_" + fake(ALNUM, 24)
NPM = "npm_" + fake(ALNUM, 36)
NPM_LEGACY = (
    fake(HEX, 8)
    + "-"
    + fake(HEX, 4)
    + "-"
    + fake(HEX, 4)
    + "-"
    + fake(HEX, 4)
    + "-"
    + fake(HEX, 12)
)
GITLAB = "glpat-" + fake(ALNUM + "_-", 20)
SENDGRID = "SG." + fake(ALNUM, 22) + "." + fake(ALNUM, 43)
OPENAI = "sk-proj-" + fake(ALNUM, 58) + "T3BlbkFJ" + fake(ALNUM, 58)
ANTHROPIC = "sk-ant-api03-" + fake(ALNUM, 93) + "AA"
PYPI = "pypi-AgEIcHlwaS5vcmc" + fake(ALNUM, 64)
AZ_CLIENT = fake(ALNUM, 3) + "8Q~" + fake(ALNUM + "~.-", 34)
DATABRICKS = "dapi" + fake(HEX, 32)
DOCKER = "dckr_pat_" + fake(ALNUM, 27)
VAULT = "hvs." + fake(ALNUM, 90)
TWILIO = "SK" + fake(HEX, 32)
SHOPIFY = "shpat_" + fake(HEX, 32)
STORAGE_KEY = fake(B64, 86) + "=="
PASSWORD = "Winter" + fake(string.digits, 4) + "!"
PEM_BODY = [fake(B64, 64) for _ in range(3)]
PRIVATE_KEY = "\n".join(
    ["-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY, "-----END RSA PRIVATE KEY-----"]
)

# (format, text, pieces that must not survive)
SECRETS: list[tuple[str, str, tuple[str, ...]]] = [
    ("nuget-api-key", f"Publish-Module -Name Contoso.Tools -NuGetApiKey {NUGET}", (NUGET,)),
    ("nuget-api-key-bare", f"the key {NUGET} was revoked", (NUGET,)),
    ("github-classic", f"git clone https://{GHP}@github.com/contoso/tools.git", (GHP,)),
    ("github-oauth", f"GH token in use: {GHO}", (GHO,)),
    ("github-app", f"installation token {GHS} expires in 1h", (GHS,)),
    ("github-user-to-server", f"auth {GHU}", (GHU,)),
    ("github-fine-grained", f"GITHUB_TOKEN: {GH_FINE}", (GH_FINE,)),
    ("ado-pat", f"PAT used: {ADO}", (ADO,)),
    (
        "ado-pat-in-url",
        f"https://build:{ADO}@pkgs.dev.azure.com/fabrikam/_packaging/f/nuget/v2",
        (ADO, "build"),
    ),
    ("ado-pat-84", f'$pat = "{ADO_84}"', (ADO_84,)),
    (
        "sas-signature",
        f"https://contoso.blob.core.windows.net/pkgs/a.nupkg?sv=2022-11-02&sr=b&sig={SAS_SIG}",
        (SAS_SIG,),
    ),
    ("jwt-bearer", f"Authorization: Bearer {JWT}", (JWT,)),
    ("jwt-bare", f"token {JWT} expired", (JWT,)),
    (
        "basic-auth-url",
        f"Register-PSRepository -Name Feed -SourceLocation https://svc-build:{PASSWORD}@nuget.contoso.com/v3/index.json",
        (PASSWORD, "svc-build"),
    ),
    (
        "aspaintext-string",
        f"$secure = ConvertTo-SecureString -String '{PASSWORD}' -AsPlainText -Force",
        (PASSWORD,),
    ),
    (
        "convertto-securestring",
        f"$cred = ConvertTo-SecureString '{PASSWORD}' -AsPlainText -Force",
        (PASSWORD,),
    ),
    (
        "securestring-piped",
        f"$pw = '{PASSWORD}' | ConvertTo-SecureString -AsPlainText -Force",
        (PASSWORD,),
    ),
    (
        "connection-string-password",
        f"Server=sql01;Database=Modules;User ID=svc_pkg;Password={PASSWORD};",
        (PASSWORD, "svc_pkg"),
    ),
    (
        "connection-string-accountkey",
        f"DefaultEndpointsProtocol=https;AccountName=contosopkgs;AccountKey={STORAGE_KEY};EndpointSuffix=core.windows.net",
        (STORAGE_KEY,),
    ),
    ("aws-access-key-id", f"Set-AWSCredential -AccessKey {AWS_ID} -StoreAs build", (AWS_ID,)),
    ("aws-access-key-id-bare", f"aws id {AWS_ID}", (AWS_ID,)),
    ("aws-secret-key", f"aws_secret_access_key = {AWS_SECRET}", (AWS_SECRET,)),
    (
        "aws-secret-key-param",
        f"Set-AWSCredential -AccessKey AKIAEXAMPLE -SecretKey {AWS_SECRET}",
        (AWS_SECRET,),
    ),
    ("private-key", f"cert.pem:\n{PRIVATE_KEY}\nend of file", tuple(PEM_BODY)),
    (
        "private-key-one-line",
        '{"key": "' + PRIVATE_KEY.replace("\n", "\\n") + '"}',
        tuple(PEM_BODY),
    ),
    ("slack-bot-token", f"SLACK_BOT_TOKEN={SLACK_BOT}", (SLACK_BOT,)),
    ("slack-user-token", f"posting with {SLACK_USER}", (SLACK_USER,)),
    (
        "slack-webhook",
        f"Invoke-RestMethod -Uri https://hooks.slack.com/services/{SLACK_HOOK} -Method Post",
        (SLACK_HOOK,),
    ),
    (
        "google-api-key",
        f"https://maps.googleapis.com/maps/api/geocode/json?address=x&key={GOOGLE}",
        (GOOGLE,),
    ),
    ("google-api-key-bare", f"using {GOOGLE}", (GOOGLE,)),
    ("stripe-key", f"stripe key {STRIPE}", (STRIPE,)),
    ("npm-token", f"//registry.npmjs.org/:_authToken={NPM}", (NPM,)),
    ("npm-legacy-token", f"//registry.npmjs.org/:_authToken={NPM_LEGACY}", (NPM_LEGACY,)),
    (
        "gitlab-token",
        f"Register-PSResourceRepository -Name gl -Uri https://gitlab.example/api/v4/projects/1/packages/nuget/index.json # {GITLAB}",
        (GITLAB,),
    ),
    ("sendgrid-key", f"SENDGRID={SENDGRID}", (SENDGRID,)),
    ("openai-key", f"OPENAI_API_KEY is {OPENAI}", (OPENAI,)),
    ("anthropic-key", f"x {ANTHROPIC} y", (ANTHROPIC,)),
    ("pypi-token", f"twine upload -p {PYPI}", (PYPI,)),
    (
        "azure-ad-client-secret",
        f"Connect-MgGraph -ClientSecretCredential x # secret {AZ_CLIENT}",
        (AZ_CLIENT,),
    ),
    (
        "azure-client-secret-param",
        f"Connect-AzAccount -ServicePrincipal -ClientSecret '{PASSWORD}' -Tenant contoso",
        (PASSWORD,),
    ),
    ("databricks-token", f"DATABRICKS_HOST=x {DATABRICKS}", (DATABRICKS,)),
    ("dockerhub-pat", f"docker login -u ci -p {DOCKER}", (DOCKER,)),
    ("vault-token", f"VAULT_TOKEN={VAULT}", (VAULT,)),
    ("twilio-key", f"twilio {TWILIO}", (TWILIO,)),
    ("shopify-token", f"shop {SHOPIFY}", (SHOPIFY,)),
    ("password-parameter", f"Register-PSRepository ... -Password '{PASSWORD}'", (PASSWORD,)),
    ("password-assignment", f'$password = "{PASSWORD}"', (PASSWORD,)),
    ("env-api-key", f"$env:NUGET_API_KEY = '{NUGET}'", (NUGET,)),
    ("json-password", f'{{"username": "svc", "password": "{PASSWORD}"}}', (PASSWORD,)),
    ("yaml-token", f"  token: {GHP}", (GHP,)),
    ("nuget-config-password", f'<add key="ClearTextPassword" value="{PASSWORD}" />', (PASSWORD,)),
    ("nuget-config-user", '<add key="Username" value="jdoe.contoso" />', ("jdoe.contoso",)),
    ("x-nuget-apikey-header", f"X-NuGet-ApiKey: {NUGET}", (NUGET,)),
    (
        "basic-header",
        "Authorization: Basic amRvZTpXaW50ZXIyMDI0IQ==",
        ("amRvZTpXaW50ZXIyMDI0IQ==",),
    ),
    (
        "curl-user",
        f"curl -u jdoe:{PASSWORD} https://nuget.contoso.com/v3/index.json",
        ("jdoe", PASSWORD),
    ),
    (
        "network-credential",
        f"[Net.NetworkCredential]::new('jdoe', '{PASSWORD}')",
        ("jdoe", PASSWORD),
    ),
    (
        "pscredential-user",
        "New-Object System.Management.Automation.PSCredential('asmith', $pw)",
        ("asmith",),
    ),
    ("get-credential-user", "$cred = Get-Credential jdoe", ("jdoe",)),
    ("get-credential-domain-user", r"$cred = Get-Credential NORTHWIND\asmith", ("asmith",)),
    (
        "get-credential-username",
        "$cred = Get-Credential -UserName 'asmith' -Message 'Feed'",
        ("asmith",),
    ),
    (
        "credential-parameter",
        "Install-Module Contoso.Ops -Repository Feed -Credential jdoe",
        ("jdoe",),
    ),
    ("email", "Contact jdoe@contoso.com for access", ("jdoe@contoso.com",)),
    ("email-upn", "Signed in as Anna.Smith@fabrikam.onmicrosoft.com", ("Anna.Smith",)),
    ("windows-profile", r"C:\Users\jdoe\Documents\WindowsPowerShell\Modules", ("jdoe",)),
    (
        "windows-profile-spaces",
        r"C:\Users\Jane Doe\Documents\PowerShell\Modules\Az",
        ("Jane Doe", "Jane"),
    ),
    ("windows-profile-json", r'{"path": "C:\\Users\\jdoe\\AppData\\Local\\Temp"}', ("jdoe",)),
    ("windows-profile-prompt", r"PS C:\Users\asmith> Install-Module Az", ("asmith",)),
    ("windows-profile-unc", r"\\fs01\Users\asmith\modules", ("asmith",)),
    ("home-linux", "/home/jdoe/.local/share/powershell/Modules", ("jdoe",)),
    ("home-macos", "/Users/asmith/.local/share/powershell/Modules", ("asmith",)),
    ("domain-user", r"Access denied for NORTHWIND\jdoe on the share", ("jdoe",)),
    (
        "transcript-user",
        "Username: NORTHWIND\\jdoe\nRunAs User: NORTHWIND\\asmith",
        ("jdoe", "asmith"),
    ),
    (
        "transcript-machine",
        "Machine: WS-JDOE-07 (Microsoft Windows NT 10.0.19045.0)",
        ("WS-JDOE-07",),
    ),
    ("env-username", "USERNAME                       asmith", ("asmith",)),
]

# Text that must come out unchanged.
NOT_SECRETS: list[str] = [
    "https://www.powershellgallery.com/api/v2/package/Az.Accounts/2.12.1",
    "https://www.powershellgallery.com/api/v2/FindPackagesById()?id='Az.Accounts'&semVerLevel=2.0.0",
    "https://www.powershellgallery.com/api/v2/Packages?$skiptoken='Az','1.0.0'",
    "https://onegetcdn.azureedge.net/providers/Microsoft.PackageManagement.NuGetProvider-2.8.5.208.dll",
    "https://api.nuget.org/v3/index.json",
    "https://pkgs.dev.azure.com/fabrikam/_packaging/ops/nuget/v2",
    "https://go.microsoft.com/fwlink/?LinkID=627338&clcid=0x409",
    "Install-Module -Name Microsoft.Graph.Authentication -RequiredVersion 2.15.0 -Scope CurrentUser",
    "Install-Module -Name Microsoft.PowerShell.SecretManagement, Microsoft.PowerShell.SecretStore",
    "Install-Module Az.KeyVault -AllowClobber -Force",
    "Install-PSResource -Name PasswordPolicyTools -TrustRepository",
    "Install-Module -Name AWS.Tools.SecurityToken -Repository PSGallery",
    "Import-Module PowerShellGet -RequiredVersion 2.2.5",
    "PowerShellGet 1.0.0.1, PackageManagement 1.0.0.1, NuGet provider 2.8.5.208",
    "PSVersion 5.1.19041.4291, PSEdition Desktop, BuildVersion 10.0.19041.4291",
    "GUID = 'e4e0bda1-0703-44a5-b70d-8fe704cd0643'",
    "ModuleVersion = '2.12.1'; GUID = '17a2feff-488b-47f9-8729-e2cec094624c'",
    "PackageHash: 1e7P4fvQ7m5yV0e4oKr0Wc3+0n3jH2CzR7v3mA1qH1dA0l5m4F8J2c3J9n5g0e1jD6a8yX2c4vQ7xW1m0pA3ZbA==",
    "Hash for package 'Az.Accounts' does not match hash provided from the server.",
    "sha512: 3f4b2a1c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
    "FullyQualifiedErrorId : NoMatchFoundForCriteria,Microsoft.PowerShell.PackageManagement.Cmdlets.InstallPackage",
    "FullyQualifiedErrorId : InvalidAuthenticodeSignature,Microsoft.PowerShell.PackageManagement.Cmdlets.InstallPackage",
    "PackageManagement\\Install-Package : No match was found for 'Contoso.Tools'.",
    r"C:\Program Files\WindowsPowerShell\Modules\PowerShellGet\1.0.0.1\PSModule.psm1:1809 char:21",
    r"C:\Program Files\PowerShell\7\Modules\Microsoft.PowerShell.PSResourceGet\1.0.4.1",
    r"C:\Program Files (x86)\WindowsPowerShell\Modules",
    r"C:\Users\Public\Documents\modules.txt",
    r"C:\Users\runneradmin\Documents\PowerShell\Modules",
    r"C:\Users\VssAdministrator\AppData\Local\Temp",
    "/home/runner/.local/share/powershell/Modules",
    r"Owner: NT AUTHORITY\SYSTEM, BUILTIN\Administrators",
    r"Set-ItemProperty HKCU\Environment -Name PSModulePath",
    r"HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319 SchUseStrongCrypto",
    r"APPLICATION PACKAGE AUTHORITY\ALL APPLICATION PACKAGES",
    "$path = 'C:\\temp\\logs'; $compat = 'yes'",
    "VERBOSE: Using the provider 'PowerShellGet' for searching packages.",
    "The remote server returned an error: (401) Unauthorized.",
    "A valid password is required to access the Microsoft.PowerShell.SecretStore vault.",
    "Re-run the command with -Credential.",
    "Install-Module -Name Contoso.Ops -Repository Feed -Credential $cred -Scope CurrentUser",
    "Publish-Module -Path .\\Contoso.Tools -NuGetApiKey $env:NUGET_API_KEY",
    "Connect-AzAccount -Identity -AccountId $env:AZURE_CLIENT_ID",
    "$securePw = Read-Host -AsSecureString; $password = Read-Host -AsSecureString",
    "NUGET_API_KEY: ${{ secrets.NUGET_API_KEY }}",
    "env:\n  PAT: $(System.AccessToken)",
    "2024-01-02T03:04:05.1234567Z ##[error]Process completed with exit code 1.",
    "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12",
    "Retry-After: 120",
    "HTTP/1.1 503 Service Unavailable",
    "Module 'Az.Accounts' version 2.12.1 was installed successfully.",
    # seen in real logs (tests/cases), each once masked by a too-eager rule
    "Culture=neutral, PublicKeyToken=31bf3856ad364e35",
    "ComputerName           : www.powershellgallery.com",
    "cmdlet Get-Credential at command pipeline position 1",
    "$cred = Get-Credential      # my normal account",
    "pip install --index-url=https://$FEED_PAT@pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple",
    r"C:\Program Files\Modules\Az\strings\en-US\resources.resjson",
    "UserName               Password\n--------               --------",
    "failed to fetch oauth token: unexpected status: 401 Unauthorized",
    "Connect-AzAccount -Credential System.Management.Automation.PSCredential -Environment AzureCloud",
    r"PS C:\Users\Administrator> Install-Module Az",
    "regular expression 'C:/Users/.+/project' did not match",
    "I also wrote to psgadmin@microsoft.com about the confirmation e-mail",
    # 52 lower-case letters, but words: a module name written without dots, no key word nearby.
    "Install-Module exchangeonlinemanagementandcompliancecenterpowershel -Force",
    "the ticket subject was: pleasesendthecompleteerroroutputwiththecategoryinfox",
]
