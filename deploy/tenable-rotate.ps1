# Keeper PAM script for Windows gateways: pipes the gateway's input to tenable-rotate.exe and
# exits with its exit code (0 = success; see README). PowerShell does not fail on a native
# program's non-zero exit by itself, hence `exit $LASTEXITCODE`; a missing .exe is exit 2, never
# a silent 0. Edit $Exe if the binary is installed elsewhere. How to try it by hand on the
# gateway before attaching it: docs/keeper-setup.md, "Windows gateways".
$Exe = if ($env:TENABLE_ROTATE_BIN) { $env:TENABLE_ROTATE_BIN } else { 'C:\Program Files\tenable-rotate\tenable-rotate.exe' }
if (-not (Test-Path -LiteralPath $Exe -PathType Leaf)) {
    [Console]::Error.WriteLine("tenable-rotate: no executable at $Exe; install the binary there (or set TENABLE_ROTATE_BIN); the Tenable password was not changed")
    exit 2
}
$input | & $Exe keeper
exit $LASTEXITCODE
