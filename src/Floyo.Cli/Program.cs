using Floyo.Cli;
using System.CommandLine;
using Floyo.Cli.Commands;

var root = new RootCommand("floyo-dr: proven PostgreSQL backups and safe restores, on local defaults")
{
    BackupCommand.Create(),
    ListCommand.Create(),
    RestoreCommand.Create(),
    BreachCommand.Create(),
    VerifyCommand.Create(),
    CleanupCommand.Create(),
    AcceptCommand.Create(),
    DrillCommand.Create(),
    ReportCommand.Create(),
    HoldCommand.Create(),
    CheckImmutabilityCommand.Create(),
    FilesCommand.Create(),
    ConfigCommand.Create(),
    CredentialsCommand.Create(),
    RotateCredentialsCommand.Create(),
    SecretsCommand.Create(),
    WalCommand.Create(),
    CheckCommand.Create(),
    DashboardCommand.Create(),
    IncidentCommand.Create(),
};
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
{
    // One line, like every other failure; the full usage is a --help away.
    return CliHost.Fail($"{parsed.Errors[0].Message} (see 'floyo-dr {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(1))} --help')", 2);
}
return await parsed.InvokeAsync();
