"""What the program said: catalogued messages recognised by identity, text, translation,
approximately and by record shape, and not inside other words."""

from __future__ import annotations

from psgdiag.model import Said
from psgdiag.pipeline.ingest import decode
from psgdiag.pipeline.normalize import normalize
from psgdiag.pipeline.recognise import recognise_everything


def said(log: str) -> tuple[Said, ...]:
    return recognise_everything(normalize(decode(log.encode("utf-8"), "test.log")))


def ways(log: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in said(log):
        out.setdefault(s.message, set()).add(s.how)
    return out


FQID = (
    "NoMatchFoundForProvider,Microsoft.PowerShell.PackageManagement.Cmdlets.InstallPackageProvider"
)


def test_a_translation_fills_its_slots_and_the_fqid_confirms_it() -> None:
    log = (
        "Install-PackageProvider : Aucune correspondance trouvée pour les critères de recherche "
        "spécifiés pour le fournisseur 'NuGet'. Le fournisseur de package requiert les balises "
        "'PackageManagement' et 'Provider'. Vérifiez si le package spécifié présente ces balises.\n"
        f"    + FullyQualifiedErrorId : {FQID}\n"
    )
    found = [s for s in said(log) if s.message == "PackageManagement.NoMatchFoundForProvider"]
    assert {s.how for s in found} == {"template", "fqid"}
    (by_text,) = [s for s in found if s.how == "template"]
    assert by_text.locale == "fr" and dict(by_text.slots) == {"provider": "NuGet"}


def test_a_retyped_line_is_recognised_approximately() -> None:
    log = (
        "Install-PSResource: Repository 'PSGallery' is not a known repsoitory type that is "
        "suported. Please file an issue for support https://github.com/PowerShell/PSResourceGet/issues\n"
    )
    assert "fuzzy" in ways(log).get("PSResourceGet.RepositoryApiVersionUnknown", set())


def test_an_unknown_language_is_recognised_by_the_record_shape() -> None:
    # Words no catalog holds; the command, category and exception type are the identity.
    log = (
        "Get-PSGalleryApiAvailability : PowerShell Cirizep by fadiremoq kolysotomoc.  Sobyse zow.\n"
        "    + CategoryInfo          : InvalidOperation: (:) [Get-PSGalleryApiAvailability], "
        "InvalidOperationException\n"
        "    + FullyQualifiedErrorId : Patyhonagacoki,Lil-Mokunenemulodo\n"
    )
    assert ways(log).get("PowerShellGet.PowerShellGalleryUnavailable") == {"record"}


def test_a_short_caption_is_not_found_inside_an_identifier() -> None:
    record = (
        "    + CategoryInfo          : InvalidArgument: (:) [Install-PackageProvider], Exception\n"
        f"    + FullyQualifiedErrorId : {FQID}\n"
    )
    assert "PackageManagement.ActionInstallPackage" not in ways(record)
    # The caption itself, on a line of its own after such a record, still is.
    assert "PackageManagement.ActionInstallPackage" in ways(record + "Install Package\n")


def test_a_concise_view_record_is_told_apart_by_its_length() -> None:
    # PowerShell 7's concise view (no CategoryInfo), in words nobody catalogued: the command,
    # the quoted value and Get-PSRepository fit three errors; only one is about this long.
    log = (
        "Install-Package: /opt/microsoft/powershell/7/Modules/PowerShellGet/PSModule.psm1:9711\n"
        "Jisa |\n"
        "9711 |  … talledPackages = PackageManagement\\Install-Package @PSBoundParameters\n"
        "     |                     ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "     | Fe syxub niw ripyj qek hiw zywabykec wyceda zyxybavy faq devifa wemu 'PSDepend'. Xul\n"
        "     | Get-PSRepository ti reh tyg vuvyxoryb bawurinoti devifa vakyxirejovi.\n"
    )
    assert ways(log) == {"PackageManagement.NoMatchFoundForCriteria": {"record"}}
    # The short one ("Unable to find repository '{0}'. Use Get-PSRepository to see ...").
    short = log.replace(
        "Fe syxub niw ripyj qek hiw zywabykec wyceda zyxybavy faq devifa wemu 'PSDepend'. Xul",
        "Tezibi ti fasa rakexuwil 'PSDepend'. Xul",
    ).replace("ti reh tyg vuvyxoryb bawurinoti devifa vakyxirejovi.", "ti reh tyg vuvyx bawuri.")
    assert set(ways(short)) <= {"PowerShellGet.SourceNotFound", "PackageManagement.SourceNotFound"}
    assert ways(short)


def test_a_cjk_text_is_not_matched_by_other_cjk_text_of_its_length() -> None:
    # The Chinese "no match for provider" text must not start at an earlier quoted value: the
    # fallback for text garbled on its way to the log is '?' or Latin mojibake, not any script.
    log = (
        "警告: 无法从 URI“https://go.microsoft.com/fwlink/?LinkID=627338&clcid=0x409”下载到“”。\n"
        "警告: 无法下载可用提供程序列表。请检查 Internet 连接。\n"
        'PackageManagement\\Install-PackageProvider : 找不到提供程序“NuGet”的指定搜索条件的匹配项。程序包提供程序要求 "PackageManagement" 和 "Provider" 标记。请检查指定的程序包是否具有标记。\n'
    )
    found = {s.message: s for s in said(log) if s.how == "template"}
    assert dict(found["PackageManagement.NoMatchFoundForProvider"].slots) == {"provider": "NuGet"}
    assert found["PackageManagement.NoMatchFoundForProvider"].line_start == 3
    uri = dict(found["PackageManagement.Core.UnableToDownload"].slots)["uri"]
    assert uri.startswith("https://go.microsoft.com/")


def test_a_text_piped_as_ascii_still_matches() -> None:
    fr = "AVERTISSEMENT : Impossible de t?l?charger ? partir de l'URI 'https://go.microsoft.com/fwlink/?LinkID=627338' dans ''.\n"
    assert "template" in ways(fr).get("PackageManagement.Core.UnableToDownload", set())


def test_a_record_recognised_by_shape_fills_its_one_quoted_slot() -> None:
    log = (
        "Install-Package: /opt/microsoft/powershell/7/Modules/PowerShellGet/PSModule.psm1:9711\n"
        "Jisa |\n"
        "9711 |  … talledPackages = PackageManagement\\Install-Package @PSBoundParameters\n"
        "     |                     ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "     | Di gudaw max qyciv wiv jos fobyripes liruxi redavasy lyn zysiku nedo 'Az.Tools'. Hox\n"
        "     | Get-PSRepository ku ryk bat pybalivim tezybisofa zysiku qubyhiwekyha.\n"
    )
    (rec,) = said(log)
    assert (rec.message, rec.how) == ("PackageManagement.NoMatchFoundForCriteria", "record")
    assert dict(rec.slots) == {"module": "Az.Tools"}


def test_a_retyped_text_as_powershellget_rewrote_it_is_recognised() -> None:
    # PackageManagement's text as PowerShellGet prints it (module / Get-PSRepository), mistyped.
    log = (
        "WARNING: Unale to resolve package soucre 'https://www.powershellgallery.com/api/v2'.\n"
        "Install-Package: No match found for the specified search criteria and modue name "
        "'PSDepend'. Try Get-PSRepository to see all available registered module repositories.\n"
    )
    found = ways(log)
    assert found.get("NuGetProvider.UnableToResolveSource") == {"fuzzy"}
    assert found.get("PackageManagement.NoMatchFoundForCriteria") == {"fuzzy"}


def test_a_record_raised_with_another_exception_type_is_still_recognised() -> None:
    # The catalog has this error as Write-Error's WriteErrorException; a release threw it as an
    # InvalidOperationException. The command, the category, the quoted value and Install-Module
    # remain, and the text is about as long as the template.
    log = (
        "Update-Module : Pokiha 'Pester' cin ser safujiniw zi joxes Install-Module, xu qa qotoxu ka gubohes.\n"
        "So pyga:1 lyzy:1\n"
        "+ Update-Module -Name Pester\n"
        "+ ~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "    + CategoryInfo          : InvalidOperation: (Pester:String) [Update-Module], InvalidOperationException\n"
        "    + FullyQualifiedErrorId : Tifycokoqyhasydy,Sokovu-Pokiha\n"
    )
    (rec,) = said(log)
    assert (rec.message, rec.how) == (
        "PowerShellGet.ModuleNotInstalledUsingPowerShellGet",
        "record",
    )
    assert dict(rec.slots) == {"module": "Pester"}


def test_any_quote_stands_for_any_other() -> None:
    # retyped from a screenshot: a double quote opens the module name, a single one closes it
    log = (
        "WARNING: The version '1.4.6' of module \"PackageManagement' is currently in use. "
        "Retry the operation after closing the applications.\n"
    )
    found = [s for s in said(log) if s.message == "PowerShellGet.ModuleVersionInUse"]
    assert any(s.how == "template" for s in found)
    (exact,) = [s for s in found if s.how == "template"]
    assert dict(exact.slots) == {"version": "1.4.6", "module": "PackageManagement"}


def test_a_record_printing_another_category_is_told_by_its_command() -> None:
    # Write-Error declares InvalidOperation; Windows PowerShell printed InvalidArgument
    log = (
        "Register-PSRepository : Tec fasycyzar voxotacona 'FabrikamFeed' qi norymajotofa caz "
        "potele ga guzycehuko. Fyz segoqir ryvi -Credential.\n"
        "    + CategoryInfo          : InvalidArgument: (https://pkgs.dev...ps/nuget/v2:String) "
        "[Register-PSRepository], Cydusorib\n"
        "    + FullyQualifiedErrorId : Hecojihozamydysovahonorujide,Qyqyraty-Fuxinudijagi\n"
    )
    assert "record" in ways(log).get("PowerShellGet.RepositoryCannotBeRegistered", set())


def test_a_bootstrap_prompt_in_german_names_its_provider() -> None:
    log = (
        'Der Anbieter "nuget v2.8.5.208" ist nicht installiert.\n'
        '"nuget" kann manuell von https://onegetcdn.azureedge.net/providers/'
        "Microsoft.PackageManagement.NuGetProvider-2.8.5.208.dll heruntergeladen und installiert "
        "werden.\n"
        'Soll PackageManagement automatisch heruntergeladen und "nuget" jetzt installiert werden?\n'
    )
    found = {s.message: s for s in said(log) if s.locale == "de"}
    assert dict(found["PackageManagement.BootstrapProviderUserRequested"].slots) == {
        "provider": "nuget",
        "version": "2.8.5.208",
    }
    assert dict(found["PackageManagement.QueryBootstrap"].slots) == {"provider": "nuget"}


def test_a_windows_library_missing_on_linux_is_a_platform_mismatch() -> None:
    from psgdiag import api

    log = (
        "PS /home/user1> Install-Module -Name Contoso.WindowsOnly\n"
        "PackageManagement\\Install-Package : Unable to load shared library "
        "'api-ms-win-core-sysinfo-l1-1-0.dll' or one of its dependencies. In order to help "
        "diagnose loading problems, consider setting the LD_DEBUG environment variable: "
        "libapi-ms-win-core-sysinfo-l1-1-0.dll: cannot open shared object file\n"
    )
    report = api.diagnose_text(log)
    assert report.diagnoses[0].signature.id == "incompatible-powershell-version"


def test_a_typed_record_holding_half_the_skeleton_is_recognised() -> None:
    # the words are a language nobody catalogued; the paths, -Scope CurrentUser, the category and
    # the exception type are what is left of Install-Module's administrator-rights error
    log = (
        'Install-Module : Qit Vakyfupaxini hez Kozerop by "C:\\Program Files\\WindowsPowerShell\\'
        'Modules" paha Vybacuwazolorokewyj tosukymujixi. Micobi Fob puta piwoq lorux Zewev kaw '
        "Sodajujufafecawihyfi deha Bezivytu ci, milebolyjop Fob keh Hifumax, kaje ryresixykipe Fob "
        '"C:\\Users\\user1\\Documents\\WindowsPowerShell\\Modules", naham Fob Sykab Qijyce '
        '"-Scope CurrentUser" tuvo. Fob gabo hafaqotil, vyv Jydanig Basivonole-Jacawus kaw Hypiqat '
        "(Byk Semypaculifug) dobi.\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Install-Module], ArgumentException\n"
        "    + FullyQualifiedErrorId : Nevufupidyxe,Qytogit-Laqyty\n"
    )
    found = ways(log)
    assert "record" in found.get(
        "PowerShellGet.InstallModuleNeedsCurrentUserScopeParameterForNonAdminUser", set()
    )
