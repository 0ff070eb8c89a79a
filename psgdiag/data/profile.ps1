# psgdiag helper for a PowerShell profile (Windows PowerShell 5.1 and PowerShell 7+).
# Add it:  psgdiag shell pwsh | Out-File -Append -Encoding utf8 $PROFILE
# Use it:  after a failed Install-Module, run  psgdiag-last
#          Invoke-Psgdiag -Index 1 -ArgumentList '--format', 'markdown'

function Format-PsgdiagRecord {
    <#
    .SYNOPSIS
    Writes an error record as psgdiag-record v1 text: a version header, the error as Windows
    PowerShell's NormalView shows it, its script stack trace and its chain of exceptions.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory, ValueFromPipeline)]
        [System.Management.Automation.ErrorRecord] $ErrorRecord
    )
    process {
        '# psgdiag-record v1'
        'PSVersion: {0}' -f $PSVersionTable.PSVersion
        'PSEdition: {0}' -f $PSVersionTable.PSEdition
        if ($PSVersionTable.Platform) {
            'Platform: {0}' -f $PSVersionTable.Platform
        }
        '{0} psgdiag-record time (UTC)' -f [DateTime]::UtcNow.ToString('o')
        foreach ($name in 'PowerShellGet', 'PackageManagement', 'Microsoft.PowerShell.PSResourceGet') {
            $module = Get-Module -Name $name | Select-Object -First 1
            if (-not $module) {
                $module = Get-Module -ListAvailable -Name $name |
                    Sort-Object -Property Version -Descending |
                    Select-Object -First 1
            }
            if ($module) {
                '{0,-10} {1,-14} {2}' -f $module.ModuleType, $module.Version, $module.Name
            }
        }
        ''
        $message = $ErrorRecord.Exception.Message
        if ($ErrorRecord.ErrorDetails -and $ErrorRecord.ErrorDetails.Message) {
            $message = $ErrorRecord.ErrorDetails.Message
        }
        $invocation = $ErrorRecord.InvocationInfo
        if ($invocation -and $invocation.MyCommand) {
            '{0} : {1}' -f $invocation.MyCommand.Name, $message
        }
        else {
            $message
        }
        if ($invocation -and $invocation.PositionMessage) {
            $invocation.PositionMessage
        }
        '    + CategoryInfo          : {0}' -f $ErrorRecord.CategoryInfo
        '    + FullyQualifiedErrorId : {0}' -f $ErrorRecord.FullyQualifiedErrorId
        if ($ErrorRecord.ScriptStackTrace) {
            ''
            'ScriptStackTrace:'
            $ErrorRecord.ScriptStackTrace
        }
        ''
        $exception = $ErrorRecord.Exception
        while ($exception) {
            '{0}: {1}' -f $exception.GetType().FullName, $exception.Message
            $exception = $exception.InnerException
        }
    }
}

function Invoke-Psgdiag {
    <#
    .SYNOPSIS
    Sends the newest error in $Error (or the one at -Index) to `psgdiag explain`.
    .EXAMPLE
    Invoke-Psgdiag -Index 1 -ArgumentList '--format', 'markdown'
    #>
    [CmdletBinding()]
    param(
        [int] $Index = 0,
        [string[]] $ArgumentList = @()
    )
    $entry = $global:Error | Select-Object -Skip $Index -First 1
    if ($entry -is [System.Exception] -and $entry.ErrorRecord) {
        $entry = $entry.ErrorRecord
    }
    if ($entry -isnot [System.Management.Automation.ErrorRecord]) {
        Write-Warning "psgdiag: `$Error has no error record at index $Index."
        return
    }
    # Windows PowerShell pipes text to native commands as ASCII unless told otherwise.
    $OutputEncoding = [System.Text.UTF8Encoding]::new($false)
    Format-PsgdiagRecord -ErrorRecord $entry | psgdiag explain @ArgumentList
}

Set-Alias -Name psgdiag-last -Value Invoke-Psgdiag
