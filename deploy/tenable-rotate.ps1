# Keeper PAM script for Windows gateways: hands the gateway's stdin line to an installed
# tenable-rotate.exe and turns its exit status into the script's (0 = success, see README).
#
# The gateway judges a PowerShell script by its status, and PowerShell does not fail on a
# native program's non-zero exit by itself, so this script exits with $LASTEXITCODE.
# Attach it to the PAM User record as a post-rotation script, with the Tenable key record as
# a rotation credential. Edit $Exe if the binary is installed elsewhere.
$ErrorActionPreference = 'Stop'
$Exe = if ($env:TENABLE_ROTATE_BIN) { $env:TENABLE_ROTATE_BIN } else { 'C:\Program Files\tenable-rotate\tenable-rotate.exe' }

if (-not (Test-Path -LiteralPath $Exe -PathType Leaf)) {
    [Console]::Error.WriteLine("tenable-rotate: no executable at $Exe; install the binary there (or set TENABLE_ROTATE_BIN); the Tenable password was not changed")
    exit 2
}

# The gateway pipes one base64 line; pass the first non-empty line on, untouched.
$line = $input | Where-Object { $_ -and $_.Trim() } | Select-Object -First 1
if (-not $line) { $line = [Console]::In.ReadLine() }

$line | & $Exe keeper
$status = $LASTEXITCODE
if ($status -ne 0) {
    # tenable-rotate has already written its one-line reason to stderr.
    exit $status
}
exit 0
