using System.CommandLine;
using Floyo.Cli.Commands;

var root = new RootCommand("floyo-dr: proven PostgreSQL backups and safe restores, on local defaults")
{
    BackupCommand.Create(),
    ListCommand.Create(),
    RestoreCommand.Create(),
    VerifyCommand.Create(),
    CleanupCommand.Create(),
    HoldCommand.Create(),
    CheckImmutabilityCommand.Create(),
    FilesCommand.Create(),
    ConfigCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
