# Drop-in replacement for Keeper's tenable_credential_record sample
# (update_tenable_credential.py) on Windows gateways: attach it in the sample's place, with the
# same key record. It runs tenable-rotate.exe with the sample's target fixed
# (TENABLE_TARGET=credential), pipes the gateway's input to it unchanged and exits with its
# exit code (0 = success; see README).
$Exe = if ($env:TENABLE_ROTATE_BIN) { $env:TENABLE_ROTATE_BIN } else { 'C:\Program Files\tenable-rotate\tenable-rotate.exe' }
if (-not (Test-Path -LiteralPath $Exe -PathType Leaf)) {
    [Console]::Error.WriteLine("tenable-rotate: no executable at $Exe; install the binary there (or set TENABLE_ROTATE_BIN); the Tenable password was not changed")
    exit 2
}
$env:TENABLE_TARGET = 'credential'
if (-not $env:TENABLE_URL -and $env:TIO_URL) { $env:TENABLE_URL = $env:TIO_URL }
$input | & $Exe keeper
exit $LASTEXITCODE
